"""Solutions to the exercises of notebook 08. The test suite runs each through its check."""

import math
from dataclasses import dataclass, field


def setting():
    @dataclass
    class Setting:
        name: str = field(metadata={"db": "Variable_name"})
        value: int = field(metadata={"db": "Value"})

    return Setting


def connections_needed():
    def connections_needed(requests_per_second, query_ms):
        # Little's law: queries in flight = arrival rate x time each holds its connection; round up
        return math.ceil(requests_per_second * query_ms / 1000)

    return connections_needed


SOLUTIONS = {"08.setting": setting, "08.connections_needed": connections_needed}
