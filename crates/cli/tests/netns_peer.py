#!/usr/bin/env python3
"""Test peer for meshhunt's live-mode tests, run inside network namespaces.

    netns_peer.py serve PORT ADDR...      listen on every ADDR, accept and hold
    netns_peer.py hold PORT ADDR...       connect to every ADDR and hold; then
                                          read commands from stdin:
                                          `connect ADDR`, `closeall`, `quit`
Prints `ready` (flushed) whenever it has done what it was asked.
"""
import select
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(port, addrs):
    listeners = []
    for addr in addrs:
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(64)
        listeners.append(s)
    print("ready", flush=True)
    held = []
    while True:
        readable, _, _ = select.select(listeners, [], [], 60)
        for s in readable:
            conn, _ = s.accept()
            held.append(conn)


def hold(port, addrs):
    held = []

    def connect(addr):
        s = socket.create_connection((addr, port), timeout=5)
        held.append(s)

    for addr in addrs:
        connect(addr)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "connect":
            connect(words[1])
        elif words[0] == "closeall":
            for s in held:
                s.close()
            held.clear()
        elif words[0] == "quit":
            break
        print("ready", flush=True)


if __name__ == "__main__":
    mode, port, addrs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    serve(port, addrs) if mode == "serve" else hold(port, addrs)
