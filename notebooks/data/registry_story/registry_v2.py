"""One stage of the book's Registry (chapter 9), as the book wrote it. Notebook 09 runs the story's tests
against each stage, registry_v1.py then registry_v2.py, and prints what changed between them."""

from foundations.redispool import RoundRobinPool


class Registry:
    def __init__(self, pool: RoundRobinPool, name: str):
        self.pool, self.name = pool, name

    def key(self, key):
        return self.name + ":" + key

    def get(self, key):
        return self.pool.do("GET", self.key(key))

    def delete(self, key):
        return self.pool.do("DEL", self.key(key))

    def set(self, key, value):
        return self.pool.do("SET", self.key(key), value)
