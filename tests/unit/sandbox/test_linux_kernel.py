"""The Linux sandbox's pieces in the real kernel, each in a throw-away child process."""
import json
import subprocess
import sys
import textwrap

import pytest

from apaf.sandbox import landlock, linux, seccomp

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux kernel features")


def run_child(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_probe_reports_landlock_abi_and_seccomp():
    info = linux.probe()
    print("sandbox probe:", info)
    assert info["landlock_abi"] == landlock.abi() and info["seccomp"] is True


def test_seccomp_filter_allows_tcp_and_refuses_udp_raw_unix_netlink_ptrace_mount():
    got = run_child("""
        import ctypes, errno, json, os, socket
        from apaf.sandbox import seccomp
        seccomp.install()
        def attempt(f):
            try:
                f().close(); return "ok"
            except OSError as e:
                return errno.errorcode[e.errno]
        libc = ctypes.CDLL(None, use_errno=True)
        def sys_(nr, *a):
            return "ok" if libc.syscall(nr, *a) == 0 else errno.errorcode[ctypes.get_errno()]
        print(json.dumps({
            "tcp": attempt(socket.socket), "tcp6": attempt(lambda: socket.socket(socket.AF_INET6)),
            "pair": attempt(lambda: socket.socketpair()[0]),
            "udp": attempt(lambda: socket.socket(type=socket.SOCK_DGRAM)),
            "raw": attempt(lambda: socket.socket(type=socket.SOCK_RAW, proto=1)),
            "unix": attempt(lambda: socket.socket(socket.AF_UNIX)),
            "netlink": attempt(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
            "packet": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),
            "ptrace": sys_(101, 16, os.getppid(), 0, 0),
            "mount": sys_(165, b"none", b"/mnt", b"tmpfs", 0, None),
            "unshare": sys_(272, 0x10000000),
            "execveat": sys_(322, os.memfd_create("copy"), b"", None, None, 0x1000),
        }))
    """)
    assert got["tcp"] == got["tcp6"] == got["pair"] == "ok"
    for name in ("udp", "raw", "unix", "netlink", "packet", "ptrace", "mount", "unshare", "execveat"):
        assert got[name] == "EPERM", (name, got)


def test_seccomp_filter_refuses_copying_a_descriptor_out_of_the_parent():
    """pidfd_getfd: where Landlock does not scope ptrace (a kernel without it), an app under
    the filter alone copied its runtime's sockets (tor's owning control connection)."""
    got = run_child("""
        import ctypes, errno, json, os
        from apaf.sandbox import seccomp
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = libc.syscall(434, os.getppid(), 0)
        def copy():
            fd = libc.syscall(438, pidfd, 2, 0)
            return "ok" if fd >= 0 else errno.errorcode[ctypes.get_errno()]
        before = copy()  # the parent's stderr: as root, or as the same user without Yama
        seccomp.install()
        print(json.dumps({"pidfd": pidfd >= 0, "before": before, "after": copy()}))
    """)
    assert got["pidfd"] and got["after"] == "EPERM", got
    if got["before"] != "ok":
        pytest.skip(f"pidfd_getfd is refused here even without the filter: {got['before']}")


def test_seccomp_filter_refuses_namespaces_by_clone_and_datagram_pairs_but_threads_and_forks_run(tmp_path):
    """clone(CLONE_NEWUSER) made the namespaces unshare() is refused for, and a datagram
    socketpair reached any Unix datagram socket by its path (Landlock does not govern that)."""
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "dgram.sock"))
    listener.setblocking(False)
    got = run_child(f"""
        import ctypes, errno, json, os, socket, subprocess, threading
        from apaf.sandbox import seccomp
        seccomp.install()
        libc = ctypes.CDLL(None, use_errno=True)
        def clone(flags):
            pid = libc.syscall(56 if os.uname().machine == "x86_64" else 220, flags | 17, 0, 0, 0, 0)
            if pid == 0:
                os._exit(0)
            if pid > 0:
                os.waitpid(pid, 0)
                return "ok"
            return errno.errorcode[ctypes.get_errno()]
        def dgram_pair():
            try:
                a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
                a.sendto(b"escaped", {str(tmp_path / "dgram.sock")!r})
                return "ok"
            except OSError as e:
                return errno.errorcode[e.errno]
        ran = []
        t = threading.Thread(target=lambda: ran.append(1))
        t.start()
        t.join()
        print(json.dumps({{
            "newuser": clone(0x10000000), "newuser_newnet": clone(0x10000000 | 0x40000000),
            "newpid": clone(0x20000000), "plain": clone(0),
            "clone3": "ok" if libc.syscall(435, None, 0) >= 0 else errno.errorcode[ctypes.get_errno()],
            "dgram_pair": dgram_pair(), "stream_pair": "ok" if socket.socketpair() else "",
            "thread": "ok" if ran else "no", "subprocess": subprocess.run(["true"]).returncode,
        }}))
    """)
    assert got["newuser"] == got["newuser_newnet"] == got["newpid"] == "EPERM", got
    assert got["clone3"] == "ENOSYS", got  # so the C library falls back to the checked clone()
    assert got["dgram_pair"] == "EPERM", got
    with pytest.raises(BlockingIOError):
        listener.recv(100)
    assert got["plain"] == got["stream_pair"] == got["thread"] == "ok" and got["subprocess"] == 0, got


def test_program_is_built_for_both_supported_architectures():
    for machine in ("x86_64", "aarch64"):
        code = seccomp.program(machine=machine)
        assert len(code) % 8 == 0 and len(code) // 8 < 255


@pytest.mark.skipif(landlock.abi() < 4, reason=f"Landlock ABI {landlock.abi()} < 4 on this kernel")
def test_landlock_limits_files_and_tcp_ports(tmp_path):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "f").write_text("x")
    (tmp_path / "rw").mkdir()
    got = run_child(f"""
        import json, os, socket, sys
        from apaf.sandbox import landlock
        from apaf.sandbox.policy import runtime_paths
        ok_srv, bad_srv = socket.create_server(("127.0.0.1", 0)), socket.create_server(("127.0.0.1", 0))
        rs = landlock.Ruleset(landlock.abi())
        for p in runtime_paths() + ("/usr/lib", "/lib", "/lib64"):
            rs.allow_path(p, landlock.READ)
        rs.allow_path({str(tmp_path / 'ro')!r}, landlock.READ)
        rs.allow_path({str(tmp_path / 'rw')!r}, landlock.READ | landlock.WRITE)
        rs.allow_port(ok_srv.getsockname()[1], landlock.CONNECT_TCP)
        import ctypes; ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)
        rs.restrict_self()
        def attempt(f):
            try:
                f(); return "ok"
            except PermissionError:
                return "refused"
        print(json.dumps({{
            "read_ro": attempt(lambda: open({str(tmp_path / 'ro' / 'f')!r}).read()),
            "write_ro": attempt(lambda: open({str(tmp_path / 'ro' / 'g')!r}, "w")),
            "write_rw": attempt(lambda: open({str(tmp_path / 'rw' / 'g')!r}, "w").close()),
            "read_etc": attempt(lambda: open("/etc/hostname").read()),
            "connect_ok": attempt(lambda: socket.create_connection(ok_srv.getsockname()).close()),
            "connect_other": attempt(lambda: socket.create_connection(bad_srv.getsockname()).close()),
            "bind_any": attempt(lambda: socket.socket().bind(("127.0.0.1", 0))),
            "exec": attempt(lambda: os.execv("/bin/true", ["true"])),
        }}))
    """)
    assert got == {"read_ro": "ok", "write_ro": "refused", "write_rw": "ok", "read_etc": "refused",
                   "connect_ok": "ok", "connect_other": "refused", "bind_any": "refused", "exec": "refused"}


def test_kernel_without_landlock_degrades_and_says_so(tmp_path):
    """Stand-in for an old kernel: landlock.abi() answers 0; seccomp still applies."""
    got = run_child(f"""
        import json, socket
        from apaf.sandbox import landlock, linux
        from apaf.sandbox.policy import Policy
        landlock.abi = lambda: 0
        p = Policy(app="t", privileges=(), read_only=(), read_write=({str(tmp_path)!r},), executables=(),
                   connect_ports=(), bind_ports=())
        notes = linux.apply(p)
        info = linux.probe()
        open("/etc/hostname").read()   # files: not restricted without Landlock
        try:
            socket.socket(type=socket.SOCK_DGRAM); udp = "ok"
        except PermissionError:
            udp = "EPERM"
        print(json.dumps({{"notes": notes, "files": info["files"], "network": info["network"], "udp": udp}}))
    """)
    assert got["files"] is False and got["network"] is False and got["udp"] == "EPERM"
    assert any("NOT restricted" in n for n in got["notes"]), got["notes"]


def test_seccomp_filter_refuses_persona_changes_and_dangerous_prctl_but_python_runs():
    """personality(ADDR_NO_RANDOMIZE) would turn off randomisation for what the app runs next;
    PR_SET_PTRACER, PR_SET_MM and PR_SET_DUMPABLE 1 open the process to others."""
    got = run_child("""
        import asyncio, ctypes, errno, json, os, subprocess, threading
        from apaf.sandbox import seccomp
        seccomp.install()
        libc = ctypes.CDLL(None, use_errno=True)
        def prctl(*args):
            a = [ctypes.c_ulong(x) for x in args] + [ctypes.c_ulong(0)] * (5 - len(args))
            return "ok" if libc.prctl(*a) >= 0 else errno.errorcode[ctypes.get_errno()]
        def persona(value):
            return "ok" if libc.personality(ctypes.c_ulong(value)) != -1 else errno.errorcode[ctypes.get_errno()]
        name = ctypes.create_string_buffer(16)
        t = threading.Thread(target=lambda: None, name="worker")
        t.start(); t.join()
        print(json.dumps({
            "addr_no_randomize": persona(0x0040000), "linux32": persona(0x0008),
            "persona_query": persona(0xFFFFFFFF), "persona_default": persona(0),
            "set_ptracer_any": prctl(0x59616D61, 0xFFFFFFFFFFFFFFFF), "set_mm": prctl(35, 8, 0),
            "dumpable_on": prctl(4, 1), "dumpable_off": prctl(4, 0), "subreaper": prctl(36, 1),
            "syscall_user_dispatch": prctl(59, 0), "set_name": prctl(15, ctypes.addressof(name)),
            "get_name": prctl(16, ctypes.addressof(name)), "pdeathsig": prctl(1, 15),
            "no_new_privs": prctl(39), "asyncio": asyncio.run(asyncio.sleep(0, "ok")),
            "subprocess": subprocess.run(["true"]).returncode,
        }))
    """)
    for name in ("addr_no_randomize", "linux32", "set_ptracer_any", "set_mm", "dumpable_on", "subreaper",
                 "syscall_user_dispatch"):
        assert got[name] == "EPERM", (name, got)
    for name in ("persona_query", "persona_default", "dumpable_off", "set_name", "get_name", "pdeathsig",
                 "no_new_privs", "asyncio"):
        assert got[name] == "ok", (name, got)
    assert got["subprocess"] == 0, got


def test_seccomp_filter_keeps_an_app_off_its_runtimes_resource_limits():
    """Under a user's runtime the app shares the runtime's uid, so prlimit() on its parent
    worked: RLIMIT_CPU 1 there and the kernel kills the runtime. Its own limits stay its own."""
    got = run_child("""
        import json, os, resource
        from apaf.sandbox import seccomp
        parent = os.getppid()
        def on_parent():
            try:
                core = resource.prlimit(parent, resource.RLIMIT_CORE)
                resource.prlimit(parent, resource.RLIMIT_CORE, core)  # the same values: harmless
                return "ok"
            except PermissionError:
                return "EPERM"
        before = on_parent()
        seccomp.install()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 64), hard))
        print(json.dumps({"before": before, "after": on_parent(),
                          "own": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                          "own_by_pid_0": resource.prlimit(0, resource.RLIMIT_NOFILE)[0]}))
    """)
    assert got["before"] == "ok" and got["after"] == "EPERM", got
    assert got["own"] == got["own_by_pid_0"] <= 64, got
