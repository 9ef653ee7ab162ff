"""A private network namespace for tests that need a real network interface.

WebRTC in Chromium gathers no candidates on loopback alone, so peer-to-peer browser
tests run the server and Chromium inside a namespace of their own (``unshare --net``)
with a veth pair, two addresses and a default route. Nothing in it can reach beyond it:
the pair's two ends are both inside, and there is no other interface.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path

from .browser import CHROMIUM

_SETUP = """
set -e
ip link set lo up
ip link add sb0 type veth peer name sb1
ip addr add 10.213.0.1/24 dev sb0
ip addr add 10.213.0.2/24 dev sb1
ip link set sb0 up
ip link set sb1 up
ip route add default via 10.213.0.2 dev sb0
echo ready
exec sleep 86400
"""

# Playwright passes its own --disable-features list and a second flag would replace it;
# the wrapper merges them, adding that host candidates carry real addresses, not mDNS
# names that nothing in the namespace could resolve.
_CHROMIUM_WRAPPER = """#!/bin/bash
features=WebRtcHideLocalIpsWithMdns
args=()
for arg in "$@"; do
  case "$arg" in
    --disable-features=*) features="$features,${{arg#--disable-features=}}" ;;
    *) args+=("$arg") ;;
  esac
done
exec nsenter --net={netns} -- {chromium} "${{args[@]}}" "--disable-features=$features"
"""


class PrivateNetwork:
    """A network namespace held open by a sleeping process, entered with ``nsenter``."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", _SETUP],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        line = self.holder.stdout.readline().strip()
        if line != b"ready":
            self.holder.kill()
            raise RuntimeError(
                "could not make a private network namespace (unshare --net needs root or user "
                f"namespaces): {self.holder.stderr.read().decode(errors='replace')}"
            )
        self.path = f"/proc/{self.holder.pid}/ns/net"

    def command(self, args: list[str]) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *args]

    def chromium(self, directory: Path) -> str:
        """An executable that starts Debian's Chromium inside the namespace."""
        wrapper = directory / "chromium-in-netns"
        wrapper.write_text(_CHROMIUM_WRAPPER.format(netns=self.path, chromium=CHROMIUM))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        return str(wrapper)

    def close(self) -> None:
        if self.holder.poll() is None:
            os.killpg(self.holder.pid, signal.SIGKILL)
            self.holder.wait(timeout=10)

    def __enter__(self) -> PrivateNetwork:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
