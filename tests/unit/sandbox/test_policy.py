"""Policy from manifest privileges: what each privilege opens, and what stays closed without it."""
import socket

from apaf.manifest import load_manifest
from apaf.sandbox import audit
from apaf.sandbox.policy import Policy


def manifest(tmp_path, privileges=()):
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    privs = ", ".join(f'"{p}"' for p in privileges)
    (app / "apaf.toml").write_text(f'[app]\nname = "t"\nversion = "1"\nentry = "t:main"\nprivileges = [{privs}]\n')
    return load_manifest(app)


def policy(tmp_path, privileges=(), executables=()):
    d = tmp_path / "D"
    return Policy.for_app(manifest(tmp_path, privileges), data_dir=d / "apps" / "t", tmp_dir=d / "tmp" / "t",
                          status_file=d / "run" / "app-status" / "status.json", socks_port=9050,
                          app_port=8080, runtime_paths=("/opt/python",), executables=executables)


def test_no_privilege_reads_app_and_runtime_writes_only_data_and_tmp(tmp_path):
    p = policy(tmp_path)
    d = tmp_path / "D"
    assert p.may_read(tmp_path / "app" / "t.py") and p.may_read("/opt/python/lib/os.py")
    assert p.may_write(d / "apps" / "t" / "db.sqlite") and p.may_write(d / "tmp" / "t" / "x")
    for secret in ("/etc/shadow", "/root/.ssh/id_ed25519", d / "keys" / "t.key", d / "apps" / "other" / "x",
                   d / "admin" / "password", d / "run" / "app-status" / "status.json"):
        assert not p.may_read(secret), secret
    assert not p.may_write(tmp_path / "app" / "t.py") and not p.may_write("/tmp/x")
    # The runtime holds the app's socket: no bind, not even on its own port (squatting fix).
    assert not p.may_bind(8080) and not p.may_bind(22) and p.serve_port == 8080
    assert p.connect_ports == () and not p.may_connect(9050)
    assert p.executables == ()


def test_outbound_tor_opens_only_the_socks_port_and_tor_status_only_the_status_dir(tmp_path):
    p = policy(tmp_path, ["outbound-tor", "tor-status"])
    assert p.may_connect(9050) and not p.may_connect(22)
    d = tmp_path / "D"
    assert p.may_read(d / "run" / "app-status" / "status.json")
    assert not p.may_read(d / "run" / "status.json") and not p.may_read(d / "run" / "logs" / "t.log")


def test_run_binaries_executes_exactly_the_listed_files(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for f in ("gpg", "gpg-agent", "7zz"):
        (bin_dir / f).write_text("")
    listed = [bin_dir / "gpg", bin_dir / "gpg-agent"]
    p = policy(tmp_path, ["run-binaries"], executables=listed)
    assert p.may_execute(bin_dir / "gpg") and p.may_execute(bin_dir / "gpg-agent")
    assert not p.may_execute(bin_dir / "7zz") and not p.may_execute("/bin/sh")
    assert p.may_read(bin_dir / "7zz")  # the binaries' own directory is readable, not executable
    assert policy(tmp_path, [], executables=listed).executables == ()  # no privilege, no exec


def test_policy_survives_the_trip_to_the_app_process(tmp_path):
    p = policy(tmp_path, ["outbound-tor"])
    assert Policy.from_json(p.to_json()) == p


def test_refusal_messages_name_what_was_refused_and_why(tmp_path):
    p = policy(tmp_path, ["tor-status"])
    sock = socket.socket()
    try:
        assert "read /etc/shadow" in audit.check(p, "open", ("/etc/shadow", "r", 0))
        assert "write /tmp/x" in audit.check(p, "open", ("/tmp/x", "w", 0o1101))
        assert audit.check(p, "open", (str(tmp_path / "app" / "t.py"), "r", 0)) is None
        assert "outbound-tor" in audit.check(p, "socket.connect", (sock, ("127.0.0.1", 22)))
        assert "bind to 127.0.0.1:9999" in audit.check(p, "socket.bind", (sock, ("127.0.0.1", 9999)))
        assert "apaf.listening_socket()" in audit.check(p, "socket.bind", (sock, ("127.0.0.1", 8080)))
    finally:
        sock.close()
    assert "UDP" in audit.check(p, "socket.__new__", (None, socket.AF_INET, socket.SOCK_DGRAM, 0))
    assert "AF_NETLINK" in audit.check(p, "socket.__new__", (None, socket.AF_NETLINK, socket.SOCK_RAW, 0))
    assert audit.check(p, "socket.__new__", (None, socket.AF_INET6, socket.SOCK_STREAM, 0)) is None
    assert "execute /bin/sh" in audit.check(p, "subprocess.Popen", ("/bin/sh", ["/bin/sh"], None, None))


def test_the_logger_names_a_new_unix_socket_but_not_asyncios_socketpair(tmp_path):
    import subprocess
    import sys
    import textwrap
    code = textwrap.dedent("""
        import asyncio, socket, sys
        from apaf.sandbox import audit
        from apaf.sandbox.policy import Policy
        audit.install(Policy(app="t", privileges=(), read_only=("/",), read_write=(), executables=(),
                             connect_ports=(), bind_ports=()), sys.stdout)
        asyncio.run(asyncio.sleep(0))         # its self-pipe is a socketpair()
        socket.socketpair()
        socket.socket(socket.AF_UNIX).close()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.splitlines() == [f"{audit.PREFIX} socket(AF_UNIX, stream): apps may open TCP connections only "
                                "(no DNS, no UDP, no raw sockets)"]


def test_the_app_binds_nothing_where_the_runtime_hands_its_socket_over(tmp_path, monkeypatch):
    from apaf.sandbox import policy_from_environment
    d = tmp_path / "D"
    env = {"APAF_DATA_DIR": str(d / "apps" / "t"), "APAF_PORT": "8080"}
    handed = policy_from_environment(manifest(tmp_path), {**env, "APAF_LISTEN_FD": "3"})
    assert handed.bind_ports == () and handed.serve_port == 8080
    # A host that cannot hand a socket over (Windows): the app binds its own port, only that.
    assert policy_from_environment(manifest(tmp_path), env).bind_ports == (8080,)


def test_the_manifest_handed_in_the_environment_gives_the_policy_the_manifest_gives(tmp_path):
    """The app process reads its privileges from the runtime (Grant), not by parsing apaf.toml."""
    from apaf.sandbox import policy_from_environment
    from apaf.sandbox.policy import Grant
    m = manifest(tmp_path, ["outbound-tor", "tor-status"])
    d = tmp_path / "D"
    env = {"APAF_DATA_DIR": str(d / "apps" / "t"), "APAF_PORT": "8080", "APAF_SOCKS": "127.0.0.1:9050",
           "APAF_STATUS_FILE": str(d / "run" / "app-status" / "status.json"), "APAF_APP_NAME": m.name}
    grant = Grant.from_environment(str(m.app_dir), {**env, **Grant.environment(m)})
    assert (grant.name, grant.privileges, grant.extra_binaries) == ("t", ("outbound-tor", "tor-status"), ())
    assert policy_from_environment(grant, env) == policy_from_environment(m, env)
    assert policy_from_environment(grant, env).connect_ports == (9050,)
    # Started without the hand-over (by hand, an older runtime): it reads apaf.toml itself.
    assert Grant.from_environment(str(m.app_dir), env).privileges == ("outbound-tor", "tor-status")
