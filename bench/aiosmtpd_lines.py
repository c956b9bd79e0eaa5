"""Where aiosmtpd itself is the limit: its CPU per message and per line of DATA.

A do-nothing aiosmtpd server (bench/intake_servers.py) is loaded by Postfix's smtp-source (a C
client, so the client takes next to no CPU; the Python client where smtp-source is missing)
with 4 KB and 40 KB DSNs over 20 sessions. From the server's CPU per message at the two sizes
follow aiosmtpd's cost per DATA line (its `smtp_DATA` awaits `StreamReader.readuntil` once per
line and joins each line twice) and its fixed cost per message (commands, replies, address
parsing by the `email` package).

The same server with `smtp_DATA` reading the whole content in one `readuntil(b"\\r\\n.\\r\\n")`
(a sketch of the change one could propose upstream; bench only, not bouncer's code: it skips
aiosmtpd's handling of a lone-dot first line and of oversized lines) shows what that change
would save.

    .venv/bin/python bench/aiosmtpd_lines.py [--messages 3000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake_servers as servers  # noqa: E402
import smtp_load  # noqa: E402

_CHUNKED = """
import asyncio
from aiosmtpd.smtp import SMTP

class Nothing:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok"

class WholeData(SMTP):
    async def smtp_DATA(self, arg):
        if await self.check_helo_needed() or not self.envelope.rcpt_tos:
            return await SMTP.smtp_DATA(self, arg)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._reader._limit = max(self._reader._limit, self.data_size_limit or 1 << 25)
        data = await self._reader.readuntil(b"\\r\\n.\\r\\n")
        content = data[:-3].replace(b"\\r\\n..", b"\\r\\n.")
        if content.startswith(b".."):
            content = content[1:]
        self.envelope.original_content = self.envelope.content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: WholeData(Nothing(), hostname="ref.localhost"),
                                      "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def start_whole_data() -> servers.Server:
    """Start the do-nothing server whose DATA is read in one call."""
    process = subprocess.Popen([sys.executable, "-c", _CHUNKED], stdout=subprocess.PIPE, text=True)
    return servers.Server("whole-data", int(process.stdout.readline()), process)


def per_message(server: servers.Server, size: int, messages: int, folder: Path) -> tuple:
    """Load a server with 20 sessions of size-byte DSNs; return (msgs/s, CPU µs/msg)."""
    raw = smtp_load.messages(size, 1, "l")[0]
    source = servers.postfix_tool("smtp-source")
    cpu, started = server.cpu_seconds(), time.perf_counter()
    if source:
        file = folder / f"m{size}.eml"
        file.write_bytes(raw[:-3].replace(b"\r\n", b"\n"))
        command = [source, "-s", "20", "-m", str(messages), "-d", "-f", "", "-t", "b@localhost"]
        subprocess.run([*command, "-F", str(file), f"127.0.0.1:{server.port}"], check=True)
    else:
        load = [sys.executable, smtp_load.__file__, str(server.port), "--messages"]
        load += [str(messages), "--size", str(size)]
        subprocess.run(load, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    return messages / elapsed, (server.cpu_seconds() - cpu) * 1e6 / messages, raw.count(b"\n")


def main() -> None:
    """Measure both servers at 4 KB and 40 KB; print the costs and the per-line slope."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, start in (("aiosmtpd", servers.start_aiosmtpd), ("whole DATA", start_whole_data)):
            server = start()
            try:
                for size in (4096, 40960):
                    results[name, size] = per_message(server, size, args.messages, Path(folder))
            finally:
                server.stop()
    print("| server | DSN | lines | msgs/s | CPU µs/msg |")
    print("|---|--:|--:|--:|--:|")
    for (name, size), (rate, cpu, lines) in results.items():
        print(f"| {name} | {size // 1024} KB | {lines} | {rate:,.0f} | {cpu:,.0f} |")
    for name in ("aiosmtpd", "whole DATA"):
        (_, small, lines_small), (_, big, lines_big) = results[name, 4096], results[name, 40960]
        per_line = (big - small) / (lines_big - lines_small)
        fixed = small - per_line * lines_small
        print(f"{name}: {per_line:.2f} µs per DATA line, {fixed:.0f} µs per message besides")


if __name__ == "__main__":
    main()
