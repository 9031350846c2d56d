"""A stranger's listener on a Unix socket, for trust tests: binds PATH (mode 0777), accepts every
connection and records "<connections> <bytes received>" in RECORD after each read. It never
answers. Run as another uid (setpriv); stops when killed."""
import os
import socket
import sys

path, record = sys.argv[1], sys.argv[2]


def save(connections, total):
    with open(record + ".tmp", "w") as f:
        f.write(f"{connections} {total}\n")
    os.replace(record + ".tmp", record)


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o777)
server.listen(16)
connections = total = 0
save(connections, total)
while True:
    conn, _ = server.accept()
    connections += 1
    save(connections, total)
    conn.settimeout(2)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            total += len(data)
            save(connections, total)
    except OSError:
        pass
    conn.close()
