"""One stage of the book's Registry (chapter 9), as the book wrote it. registry_v2.py plus the book's GetAll,
line for line but one: KEYS for the names, then one GET per name. The book's ``if len(keys) == 0 || err != nil``
throws KEYS's error away (a Redis that is down looks empty); here the error reaches the caller, so only the
``len(keys) == 0`` half of that ``if`` is left. Notebook 09 measures its coverage, test by test."""

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

    def get_all(self):
        keys = self.pool.do("KEYS", self.key("*"))
        all_keys = {}
        if len(keys) == 0:
            return all_keys
        for name in keys:
            value = self.pool.do("GET", name)
            if value is not None:
                all_keys[name.decode()[len(self.name + ":") :]] = value.decode()
        return all_keys
