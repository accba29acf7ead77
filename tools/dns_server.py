"""A real DNS server on loopback (dnslib) for tests, the bench and `make run`.

Nothing here reaches the internet, so anything that asks DNS asks this: a
zone of domains, each of one kind (MX, null MX, A only, ...), answering over
UDP and TCP like any authoritative server, optionally `delay` seconds late or
never (`drop`), and counting every query it receives.

    python -m tools.dns_server --port 5353          # the sample zone, for a manual run
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import AAAA, MX, QTYPE, RCODE, RR, SOA, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

# What a domain of each kind answers (records per query type); a kind not
# listed answers per its rcode: "nxdomain" (no such name), "servfail", "refused".
KINDS = ("mx", "null_mx", "a_only", "aaaa_only", "spf_reject_all", "no_address",
         "nxdomain", "servfail", "refused")
TTL = 3600


def _records(domain: str, kind: str, qtype: str) -> list[RR]:
    name = domain + "."
    if kind == "mx" and qtype == "MX":
        return [RR(name, QTYPE.MX, ttl=TTL, rdata=MX(f"mx1.{name}", 10)),
                RR(name, QTYPE.MX, ttl=TTL, rdata=MX(f"mx2.{name}", 20))]
    if kind == "null_mx" and qtype == "MX":
        return [RR(name, QTYPE.MX, ttl=TTL, rdata=MX(".", 0))]
    if kind in ("mx", "null_mx", "a_only", "spf_reject_all") and qtype == "A":
        return [RR(name, QTYPE.A, ttl=TTL, rdata=A("192.0.2.10"))]
    if kind == "aaaa_only" and qtype == "AAAA":
        return [RR(name, QTYPE.AAAA, ttl=TTL, rdata=AAAA("2001:db8::10"))]
    if kind == "spf_reject_all" and qtype == "TXT":
        return [RR(name, QTYPE.TXT, ttl=TTL, rdata=TXT("v=spf1 -all"))]
    if kind in ("mx", "a_only") and qtype == "TXT":
        return [RR(name, QTYPE.TXT, ttl=TTL, rdata=TXT("v=spf1 mx ~all"))]
    return []


@dataclass
class Zone:
    """domain → kind; names outside it answer `default` (a kind)."""

    domains: Mapping[str, str]
    default: str = "nxdomain"

    def kind_of(self, qname: str) -> str:
        name = qname.rstrip(".").lower()
        return self.domains.get(name, self.default)


@dataclass
class QueryLog:
    """Every query received: (name, type) counts, thread-safe."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, qtype: str) -> None:
        with self.lock:
            self.counts[(name, qtype)] += 1

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def names(self) -> set[str]:
        with self.lock:
            return {name for name, _ in self.counts}

    def asked_twice(self) -> list[tuple[str, str]]:
        with self.lock:
            return [key for key, n in self.counts.items() if n > 1]

    def by_type(self) -> dict[str, int]:
        with self.lock:
            result: Counter[str] = Counter()
            for (_, qtype), n in self.counts.items():
                result[qtype] += n
            return dict(result)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()

    def summary(self) -> dict[str, Any]:
        return {"queries": self.total, "names": len(self.names()), "by_type": self.by_type(),
                "asked_twice": len(self.asked_twice())}


class _DelayedSender:
    """Sends UDP replies when due, from one thread.

    A thread sleeping per request (dnslib's threading server) costs more CPU
    than the look-up itself at hundreds of queries a second, and the bench
    measures our client, not this server.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._heap: list[tuple[float, int, bytes, Any, socket.socket]] = []
        self._ready = threading.Condition()
        self._seq = 0
        threading.Thread(target=self._run, name="dns-delay", daemon=True).start()

    def send_later(self, data: bytes, address: Any, sock: socket.socket) -> None:
        with self._ready:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + self.delay, self._seq, data,
                                        address, sock))
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._ready.wait(timeout)
                _, _, data, address, sock = heapq.heappop(self._heap)
            with contextlib.suppress(OSError):  # the server closed: nobody waits any more
                sock.sendto(data, address)


class _SerialUdpServer(socketserver.UDPServer):
    allow_reuse_address = True


class _UdpHandler(DNSHandler):  # type: ignore[misc]
    """dnslib's handler, with the reply handed to the delayed sender."""

    def handle(self) -> None:
        data, sock = self.request
        self.protocol = "udp"
        try:
            reply = self.get_reply(data)
        except DNSError:
            return  # dropped on purpose, or garbage: no answer, as a real server may
        self.server.sender.send_later(reply, self.client_address, sock)


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, zone: Zone, log: QueryLog, delay: float, drop: bool) -> None:
        self.zone, self.log, self.delay, self.drop = zone, log, delay, drop

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.log.add(qname, qtype)
        if self.drop:
            raise DNSError("dropped")  # dnslib sends nothing: the client times out
        if self.delay and handler.protocol == "tcp":
            time.sleep(self.delay)  # (UDP replies are delayed by the sender)
        reply = request.reply()
        kind = self.zone.kind_of(qname)
        if kind == "nxdomain":
            reply.header.rcode = RCODE.NXDOMAIN
        elif kind == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
        elif kind == "refused":
            reply.header.rcode = RCODE.REFUSED
        else:
            for record in _records(qname, kind, qtype):
                reply.add_answer(record)
        if (not reply.rr and reply.header.rcode == RCODE.NOERROR) or kind == "nxdomain":
            # Negative answers carry the zone's SOA, as real servers send them.
            reply.add_auth(RR(qname + ".", QTYPE.SOA, ttl=TTL,
                              rdata=SOA("ns.invalid.", "hostmaster.invalid.",
                                        (1, 3600, 600, 86400, 300))))
        return reply


class LoopbackDns:
    """A dnslib server on 127.0.0.1 (UDP and TCP on one port); start/stop or `with`."""

    def __init__(self, zone: Zone, *, delay: float = 0.0, drop: bool = False,
                 port: int = 0) -> None:
        self.log = QueryLog()
        resolver = _ZoneResolver(zone, self.log, delay, drop)
        quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data",
                          logf=lambda _message: None)
        for attempt in range(20):
            self._udp = DNSServer(resolver, address="127.0.0.1", port=port, logger=quiet,
                                  handler=_UdpHandler, server=_SerialUdpServer)
            self.port = int(self._udp.server.server_address[1])
            try:
                self._tcp = DNSServer(resolver, address="127.0.0.1", port=self.port, tcp=True,
                                      logger=quiet)
                break
            except OSError:
                # The free UDP port is taken for TCP: with a chosen port that is
                # fatal, with an ephemeral one try another.
                self._udp.server.server_close()
                if port or attempt == 19:
                    raise
        self._udp.server.sender = _DelayedSender(delay)
        self._tcp.server.daemon_threads = True

    @property
    def nameservers(self) -> str:
        """The value for LEADPIPE_DNS_NAMESERVERS."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> LoopbackDns:
        self._udp.start_thread()
        self._tcp.start_thread()
        return self

    def stop(self) -> None:
        for server in (self._udp, self._tcp):
            server.server.shutdown()
            server.server.server_close()

    def __enter__(self) -> LoopbackDns:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main() -> None:
    from tools.sample_data import sample_zone  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--stats-file", type=Path)
    args = parser.parse_args()
    server = LoopbackDns(Zone(sample_zone(), default="refused"), delay=args.delay,
                         port=args.port).start()
    print(f"DNS (sample zone) on {server.nameservers}", flush=True)
    try:
        while True:
            if args.stats_file:  # written at once: the local stack waits for it
                args.stats_file.write_text(json.dumps(server.log.summary()))
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
