"""System accounts of the ViXtract stack (installed by vixtract.stack.jupyterhub).

The stack's people are not in the image's /etc/passwd: they live in /var/lib/extrausers, a Docker volume
(vixtract-jupyterhub-users) read through libnss-extrausers. The files are managed with Debian's own tools
(useradd, chpasswd, usermod, userdel with --prefix /var/lib/extrausers), so uids and password hashes survive
a re-created container, and every container that mounts the volume (Cronicle runs jobs as the notebook's
owner) resolves the same names, uids and gids.

Layout of the volume:
  etc/passwd etc/group etc/shadow etc/gshadow   the files the shadow tools edit (PREFIX/etc/...)
  passwd group shadow                           links to them: what libnss-extrausers reads
  vixtract-users.json                           the stack's local users (no secrets): name -> admin, postgres

Homes are under /home (volume vixtract-jupyterhub-home). A removed user's home moves to
/home/.archive/NAME-YYYYMMDDTHHMMSSZ: nothing is deleted.

Everything here runs as root in a container whose homes belong to their users: files in a home are opened
relative to the home's directory descriptor and never through a symbolic link, so a user cannot point root at
another file (~/.pgpass swapped for a link). A stack account never takes a name, uid or gid of the image's own
accounts (/etc/passwd, /etc/group), and uids start at UID_MIN.

The ensure_* functions and remove_user take check=True for a preview (ansible-playbook --check): they read what is
there and say whether they would change it, and change nothing.
"""
import contextlib
import fcntl
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import time

PREFIX = "/var/lib/extrausers"
HOME_ROOT = "/home"
ARCHIVE = "/home/.archive"
LIB_DIR = "/opt/vixtract/lib"
LIB_GROUP = "vixtract-lib"
LIB_GID = 1999
UID_MIN = 2000
JUPYTERHUB_DATA = "/srv/jupyterhub"
SHELL = "/bin/bash"
LOCAL_USERS_FILE = os.path.join(PREFIX, "vixtract-users.json")
# The login rule of vixtract_users (the role's validation) and of every LDAP name that gets an account
NAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
CHECK_PAM_SERVICE = "vixtract-check"


def _run(*cmd, stdin=None):
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # never echo stdin: it may carry a password
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


@contextlib.contextmanager
def locked():
    """Serialise account changes between the Hub (first LDAP login) and `vixtract-accounts`."""
    os.makedirs(PREFIX, exist_ok=True)
    with open(os.path.join(PREFIX, ".vixtract.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _entries(name):
    path = os.path.join(PREFIX, "etc", name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split(":") for line in f if line.strip()]


def passwd_entry(name):
    return next((e for e in _entries("passwd") if e[0] == name), None)


def group_entry(name):
    return next((e for e in _entries("group") if e[0] == name), None)


def image_names():
    """Names of the image's own accounts and groups: never a stack account's, whatever NSS would answer."""
    names = set()
    for path in ("/etc/passwd", "/etc/group"):
        with open(path) as f:
            names |= {line.split(":", 1)[0] for line in f if line.strip()}
    return names


def is_stack_name(name):
    """A name the stack may give an account: the login rule, and none of the image's accounts or groups."""
    return bool(NAME.fullmatch(name or "")) and name not in image_names() and name != LIB_GROUP


def ensure_layout():
    """Files and links on the users volume, the shared library group and folder, the archive folder, and the
    Hub's private data (its database and cookie secret: root's alone)."""
    etc = os.path.join(PREFIX, "etc")
    os.makedirs(etc, mode=0o755, exist_ok=True)
    for name, mode in (("passwd", 0o644), ("group", 0o644), ("shadow", 0o600), ("gshadow", 0o600)):
        path = os.path.join(etc, name)
        if not os.path.exists(path):
            with open(path, "w"):
                pass
            os.chmod(path, mode)
        link = os.path.join(PREFIX, name)
        if name != "gshadow" and not os.path.islink(link):
            if os.path.exists(link):
                os.remove(link)
            os.symlink(os.path.join("etc", name), link)
    if group_entry(LIB_GROUP) is None:
        _run("groupadd", "--prefix", PREFIX, "-g", str(LIB_GID), LIB_GROUP)
    os.makedirs(LIB_DIR, exist_ok=True)
    st = os.stat(LIB_DIR)
    if st.st_gid != LIB_GID or (st.st_mode & 0o7777) != 0o2775:
        os.chown(LIB_DIR, 0, LIB_GID)
        os.chmod(LIB_DIR, 0o2775)
    os.makedirs(ARCHIVE, mode=0o700, exist_ok=True)
    if os.path.isdir(JUPYTERHUB_DATA):
        os.chmod(JUPYTERHUB_DATA, 0o700)
        for entry in os.scandir(JUPYTERHUB_DATA):
            if entry.name.startswith("jupyterhub") and entry.is_file(follow_symlinks=False):
                os.chmod(entry.path, 0o600)


def ensure_user(name, check=False):
    """System account NAME (own group, uid >= UID_MIN, home /home/NAME) and its home. True when created."""
    changed = False
    if not is_stack_name(name):
        raise RuntimeError(f"{name!r} is not a name a stack account may take")
    if passwd_entry(name) is None:
        if check:
            return True
        _run("useradd", "--prefix", PREFIX, "-K", f"UID_MIN={UID_MIN}", "-K", f"GID_MIN={UID_MIN}",
             "-U", "-M", "-d", f"{HOME_ROOT}/{name}", "-s", SHELL, name)
        changed = True
    entry = passwd_entry(name)
    uid, gid = int(entry[2]), int(entry[3])
    home = f"{HOME_ROOT}/{name}"
    if not os.path.isdir(home):
        if check:
            return True
        shutil.copytree("/etc/skel", home, symlinks=True)
        for root, dirs, files in os.walk(home):
            for item in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(item, uid, gid)
        os.chmod(home, 0o700)
        changed = True
    return changed


def password_matches(name, password):
    import pamela

    try:
        pamela.authenticate(name, password, service=CHECK_PAM_SERVICE)
        return True
    except pamela.PAMError:
        return False


def ensure_password(name, password, check=False):
    if password_matches(name, password):
        return False
    if check:
        return True
    _run("chpasswd", "--prefix", PREFIX, stdin=f"{name}:{password}\n")
    return True


def ensure_lib_member(name, member, check=False):
    """Publishers (vixtract_users library: true) are members of LIB_GROUP: they may install packages into the
    shared library folder, whose code runs as whoever imports it."""
    members = [m for m in (group_entry(LIB_GROUP) or ["", "", "", ""])[3].split(",") if m]
    if (name in members) == member:
        return False
    if check:
        return True
    others = [g[0] for g in _entries("group") if name in g[3].split(",") and g[0] != LIB_GROUP]
    groups = others + ([LIB_GROUP] if member else [])
    _run("usermod", "--prefix", PREFIX, "-G", ",".join(groups), name)
    return True


def ensure_pgpass(name, line, check=False):
    """~/.pgpass with LINE (0600, owned by the user); LINE None removes it. The home is opened without following a
    link, and .pgpass relative to it, never through a link: a link the user put there is replaced, not followed."""
    entry = passwd_entry(name)
    if check and (entry is None or not os.path.isdir(f"{HOME_ROOT}/{name}")):
        return line is not None  # an account the preview would make
    home = os.open(f"{HOME_ROOT}/{name}", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            st = os.stat(".pgpass", dir_fd=home, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if line is None:
            if st is None:
                return False
            if not check:
                os.unlink(".pgpass", dir_fd=home)
            return True
        uid, gid = int(entry[2]), int(entry[3])
        content = (line + "\n").encode()
        if st is not None:
            if stat.S_ISREG(st.st_mode) and st.st_uid == uid and (st.st_mode & 0o7777) == 0o600:
                fd = os.open(".pgpass", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=home)
                with os.fdopen(fd, "rb") as f:
                    if f.read(len(content) + 1) == content:
                        return False
            if check:
                return True
            os.unlink(".pgpass", dir_fd=home)
        if check:
            return True
        fd = os.open(".pgpass", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=home)
        with os.fdopen(fd, "wb") as f:
            os.fchown(f.fileno(), uid, gid)
            f.write(content)
        return True
    finally:
        os.close(home)


def remove_user(name, check=False):
    """Account removed; home moved into the archive. True when anything changed."""
    changed = False
    entry = passwd_entry(name)
    if check:
        return entry is not None or group_entry(name) is not None or os.path.isdir(f"{HOME_ROOT}/{name}")
    if entry is not None:
        subprocess.run(["pkill", "-KILL", "-u", entry[2]], capture_output=True, check=False)
        time.sleep(0.5)
        _run("userdel", "--prefix", PREFIX, name)
        changed = True
    if group_entry(name) is not None:
        _run("groupdel", "--prefix", PREFIX, name)
        changed = True
    home = f"{HOME_ROOT}/{name}"
    if os.path.isdir(home):
        os.makedirs(ARCHIVE, mode=0o700, exist_ok=True)
        shutil.move(home, os.path.join(ARCHIVE, f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"))
        changed = True
    return changed


def read_local_users():
    try:
        with open(LOCAL_USERS_FILE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def write_local_users(users, check=False):
    content = json.dumps(users, indent=1, sort_keys=True) + "\n"
    if os.path.exists(LOCAL_USERS_FILE):
        with open(LOCAL_USERS_FILE) as f:
            if f.read() == content:
                return False
    if check:
        return True
    tmp = LOCAL_USERS_FILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, LOCAL_USERS_FILE)
    return True


def system_user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
