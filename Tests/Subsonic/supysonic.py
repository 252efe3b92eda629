"""Debian's supysonic, a Subsonic server nobody here wrote, serving a masters folder on loopback: the peer that
Tests/Subsonic/peer.py compares musikk-server's answers with and benchmarks/opensubsonic measures it against.

    with Supysonic(masters, port) as peer:
        peer.call("getAlbumList2", type="newest")

It keeps its database, cache and config in a temporary folder, scans the folder once in the foreground, adds one
user, and runs under gunicorn with one worker per core (its fastest deployment here); everything is removed
afterwards."""
import json, os, shutil, socket, subprocess, tempfile, time, urllib.parse, urllib.request

USER, PASSWORD = "peer", "peer-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Supysonic:
    def __init__(self, masters, port=None, workers=None):
        self.masters, self.port = masters, port or free_port()
        self.workers = workers or os.cpu_count() or 2
        self.folder = tempfile.mkdtemp(prefix="musikk-tests-supysonic-")
        self.server = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *arguments):
        result = subprocess.run(["supysonic-cli", *arguments], cwd=self.folder, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"supysonic-cli {' '.join(arguments)}: {result.stderr[-2000:]}")
        return result.stdout

    def __enter__(self):
        # supysonic reads ./supysonic.conf; the scan runs in the foreground (no daemon), the watcher stays off.
        with open(os.path.join(self.folder, "supysonic.conf"), "w") as conf:
            conf.write(f"""[base]
database_uri = sqlite:///{self.folder}/supysonic.db
[webapp]
cache_dir = {self.folder}/cache
log_level = WARNING
mount_webui = off
[daemon]
socket = {self.folder}/daemon.sock
run_watcher = no
""")
        self._cli("folder", "add", "Music", self.masters)
        self.scan_report = self._cli("folder", "scan", "Music")
        self._cli("user", "add", USER, "-p", PASSWORD)
        self.log = open(os.path.join(self.folder, "server.log"), "w")
        self.server = subprocess.Popen(
            ["supysonic-server", "-S", "gunicorn", "-h", "127.0.0.1", "-p", str(self.port), "--processes", str(self.workers)],
            cwd=self.folder, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.call("ping").get("status") == "ok":
                    return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"supysonic did not answer on {self.base} within 60 s")

    def __exit__(self, *failure):
        if self.server:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def query(self, method, **params):
        """The URL of a call (for wrk), signed in by user name and password as supysonic expects."""
        pairs = [("u", USER), ("p", PASSWORD), ("v", "1.16.1"), ("c", "peer"), ("f", "json")] + list(params.items())
        return f"{self.base}/rest/{method}.view?{urllib.parse.urlencode(pairs)}"

    def call(self, method, **params):
        with urllib.request.urlopen(self.query(method, **params), timeout=30) as response:
            return json.load(response)["subsonic-response"]
