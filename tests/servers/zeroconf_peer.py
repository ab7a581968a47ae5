#!/usr/bin/python3
"""A python-zeroconf peer for the mDNS interoperability tests.

Runs inside one network namespace and talks multicast DNS on its interfaces
(python3-zeroconf 0.47 as packaged in Debian 12):

  zeroconf_peer.py register [--host H] [--ttl S] [--type T] NAME PORT [key=value...]
      Publish NAME.<type>.local. (type _presence._tcp by default) with the TXT
      pairs, the SRV target H.local. and this namespace's non-loopback
      addresses. Prints "registered <instance>" once announced (the instance
      differs from NAME when zeroconf had to rename it), then waits for SIGTERM
      or SIGINT, unregisters (goodbye packets) and prints "unregistered".
      --ttl sets both the host and the other record TTLs.
  zeroconf_peer.py browse [--type T]
      One line per event, instance names without the type suffix:
        "+ NAME key=value ..." appeared (TXT in wire order, bare keys as "key")
        "= NAME key=value ..." changed
        "- NAME"               gone
      Runs until SIGTERM/SIGINT.

Lines go to stdout, flushed at once; diagnostics to stderr.
"""

import argparse
import signal
import socket
import sys
import threading

import ifaddr
from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf

DEFAULT_TYPE = "_presence._tcp"


def out(line):
    print(line, flush=True)


def full_type(t):
    t = t.rstrip(".")
    if not t.endswith(".local"):
        t += ".local"
    return t + "."


def instance_of(name, type_):
    return name[: -len(type_) - 1] if name.endswith("." + type_) else name


def txt_pairs(text):
    """Walks raw TXT rdata rather than the properties dict so that order and
    duplicate keys stay as they were on the wire."""
    pairs, i = [], 0
    while i < len(text):
        n = text[i]
        s = text[i + 1 : i + 1 + n]
        i += 1 + n
        if s:
            pairs.append(s.decode("utf-8", "backslashreplace"))
    return pairs


def local_addresses():
    addrs = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4:
                if not ip.ip.startswith("127."):
                    addrs.append(ip.ip)
            else:
                a = ip.ip[0]
                if a != "::1":
                    addrs.append(a)
    return addrs


def wait_for_signal():
    done = threading.Event()

    def stop(_signum, _frame):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not done.wait(0.5):
        pass


def properties(pairs):
    props = {}
    for p in pairs:
        k, eq, v = p.partition("=")
        props[k.encode()] = v.encode() if eq else None
    return props


def register(args):
    type_ = full_type(args.type)
    host = args.host or socket.gethostname().split(".")[0]
    kw = {}
    if args.ttl:
        kw = {"host_ttl": args.ttl, "other_ttl": args.ttl}
    info = ServiceInfo(
        type_,
        f"{args.name}.{type_}",
        port=args.port,
        properties=properties(args.txt),
        server=f"{host}.local.",
        parsed_addresses=local_addresses(),
        **kw,
    )
    zc = Zeroconf(ip_version=IPVersion.All)
    try:
        zc.register_service(info, allow_name_change=True)
        out("registered " + instance_of(info.name, type_))
        wait_for_signal()
        zc.unregister_service(info)
        out("unregistered")
    finally:
        zc.close()


class Printer:
    def __init__(self, type_):
        self.type = type_
        self.lock = threading.Lock()

    def _show(self, zc, sign, name):
        info = zc.get_service_info(self.type, name, timeout=3000)
        inst = instance_of(name, self.type)
        if info is None:
            print(f"zeroconf_peer: cannot resolve {name}", file=sys.stderr, flush=True)
            return
        with self.lock:
            out(" ".join([sign, inst] + txt_pairs(info.text)))

    def add_service(self, zc, type_, name):
        self._show(zc, "+", name)

    def update_service(self, zc, type_, name):
        self._show(zc, "=", name)

    def remove_service(self, zc, type_, name):
        with self.lock:
            out("- " + instance_of(name, self.type))


def browse(args):
    type_ = full_type(args.type)
    zc = Zeroconf(ip_version=IPVersion.All)
    try:
        browser = ServiceBrowser(zc, type_, Printer(type_))
        wait_for_signal()
        browser.cancel()
    finally:
        zc.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("register")
    r.add_argument("--host")
    r.add_argument("--ttl", type=int, default=0)
    r.add_argument("--type", default=DEFAULT_TYPE)
    r.add_argument("name")
    r.add_argument("port", type=int)
    r.add_argument("txt", nargs="*")
    b = sub.add_parser("browse")
    b.add_argument("--type", default=DEFAULT_TYPE)
    args = p.parse_args()
    if args.mode == "register":
        register(args)
    else:
        browse(args)


if __name__ == "__main__":
    main()
