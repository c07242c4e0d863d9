"""The book's Registry after its first fix: ``set(key, value)``. Still on the book's round-robin pool,
so over two servers a SET and the GET after it can meet different Redis servers."""

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
