"""The kernels nbval starts in this run talk over Unix sockets (conftest.py), not TCP ports: a port picked
free can be taken before the kernel binds it, and a kernel that lost its heartbeat port so once left nbval's
teardown waiting forever."""

from __future__ import annotations

from pathlib import Path

import nbval.kernel

from foundations.ops.doctor import KERNEL_NAME


def test_nbval_kernels_talk_over_unix_sockets_that_go_with_them(tmp_path: Path):
    kernel = nbval.kernel.RunningKernel(KERNEL_NAME, cwd=str(tmp_path))
    try:
        info = kernel.km.get_connection_info()
        sockets = [Path(f"{info['ip']}-{info[name]}") for name in ("shell_port", "iopub_port", "hb_port")]
        assert info["transport"] == "ipc"
        assert all(socket.is_socket() for socket in sockets), sockets
        kernel.await_reply(kernel.execute_cell_input("1 + 1", allow_stdin=False), timeout=30)  # it answers
    finally:
        kernel.stop()
    assert not any(socket.exists() for socket in sockets)
