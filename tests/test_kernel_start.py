"""nbval's kernel start, as the test run patches it (conftest.retrying): a kernel that dies on start is tried
again, a few times, never forever."""

import pytest


def test_a_kernel_that_dies_on_start_is_started_again_but_not_forever():
    from conftest import retrying

    attempts = []

    def dies_first(ok_after: int):
        def start():
            attempts.append(1)
            if len(attempts) <= ok_after:
                raise RuntimeError("Kernel died before replying to kernel_info")
            return "kernel"

        return start

    assert retrying(dies_first(2), tries=3)() == "kernel" and len(attempts) == 3
    attempts.clear()
    with pytest.raises(RuntimeError, match="died"):
        retrying(dies_first(5), tries=3)()
    assert len(attempts) == 3
