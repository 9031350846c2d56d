"""A stranger's listener on a Unix socket, for trust tests: binds PATH (mode 0777), accepts every
connection and records "<connections> <bytes received> <connections closed>" in RECORD after
each accept, read and close. It never answers. Run as another uid (setpriv); stops when killed."""
import os
import socket
import sys

path, record = sys.argv[1], sys.argv[2]


def save(connections, total, closed):
    with open(record + ".tmp", "w") as f:
        f.write(f"{connections} {total} {closed}\n")
    os.replace(record + ".tmp", record)


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o777)
server.listen(16)
connections = total = closed = 0
save(connections, total, closed)
while True:
    conn, _ = server.accept()
    connections += 1
    save(connections, total, closed)
    conn.settimeout(2)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            total += len(data)
            save(connections, total, closed)
    except OSError:
        pass
    conn.close()
    closed += 1
    save(connections, total, closed)
