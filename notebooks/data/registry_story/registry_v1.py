"""The book's first, partial Registry (chapter 9), kept as written: ``set`` forgot its ``value``.
Notebook 09 runs the story's tests against it to watch them fail."""

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

    def set(self, key):
        return self.pool.do("SET", self.key(key))
