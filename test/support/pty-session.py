#!/usr/bin/env python3
# Runs a command on a real pseudo-terminal (the kernel's, as a person's terminal emulator gives
# one) and plays a conversation with it: set the window size, type, wait for text. Prints one
# JSON line: {"exitCode", "transcript", "failed"}. For tests of `overlab exec`'s shell.
#
#   pty-session.py '<steps as JSON>' command [args...]
#   steps: {"size": [rows, cols]} | {"send": "text"} | {"expect": "text", "timeout": s}
#          | {"expectCount": ["text", n]} (the text seen at least n times in all)
#          | {"sendUntil": "text", "expect": "text"} (sent again every 0.3 s until the text is seen:
#            for what arrives asynchronously, a window size reaching the far end)
import json, os, pty, select, struct, sys, time, fcntl, termios

steps = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)

seen = b''
failed = None


def read_some(timeout):
    global seen
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False  # the other side closed: the command ended
    if not data:
        return False
    seen += data
    return True


def wait_for(text, times, timeout):
    end = time.time() + timeout
    while seen.count(text) < times:
        if time.time() > end or not read_some(0.05):
            return seen.count(text) >= times
    return True


for step in steps:
    if 'size' in step:
        rows, cols = step['size']
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    elif 'sendUntil' in step:
        end = time.time() + step.get('timeout', 20)
        while True:
            os.write(fd, step['sendUntil'].encode())
            if wait_for(step['expect'].encode(), 1, 0.3):
                break
            if time.time() > end:
                failed = 'did not see %r after sending %r' % (step['expect'], step['sendUntil'])
                break
        if failed:
            break
    elif 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'expect' in step or 'expectCount' in step:
        text, times = (step['expect'], 1) if 'expect' in step else step['expectCount']
        if not wait_for(text.encode(), times, step.get('timeout', 20)):
            failed = 'did not see %r (%d times)' % (text, times)
            break

if failed:
    os.kill(pid, 9)
# Drain what is left until the command ends.
end = time.time() + 20
while time.time() < end and read_some(0.1):
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({'exitCode': os.waitstatus_to_exitcode(status), 'transcript': seen.decode('utf-8', 'replace'), 'failed': failed}))
