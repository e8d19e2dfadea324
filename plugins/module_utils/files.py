# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""Files written whole and atomically, only when their content, mode or owner differ: shared by stack_image (build
contexts) and stack_files (a component's configuration)."""
from __future__ import annotations

import grp
import os
import pwd
import shlex
import stat
import tempfile


def parse_mode(mode, default="0644"):
    """'0640' (a string of octal digits) or an int (YAML reads an unquoted 0640 as the int 416)."""
    mode = default if mode is None else mode
    return mode if isinstance(mode, int) else int(str(mode), 8)


def uid_of(owner):
    if owner is None or owner == "":
        return -1
    return int(owner) if str(owner).isdigit() else pwd.getpwnam(str(owner)).pw_uid


def gid_of(group):
    if group is None or group == "":
        return -1
    return int(group) if str(group).isdigit() else grp.getgrnam(str(group)).gr_gid


def dir_differs(target, mode, uid=-1, gid=-1):
    """Whether the directory TARGET's mode or owner (-1: any) differ."""
    info = os.stat(target)
    return stat.S_IMODE(info.st_mode) != mode or (uid != -1 and info.st_uid != uid) or (gid != -1 and info.st_gid != gid)


def file_differs(target, content, mode, uid=-1, gid=-1):
    """Whether TARGET is missing or differs from CONTENT (bytes), MODE (int) or the owner given (-1: any)."""
    try:
        info = os.lstat(target)
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
            return True
        if (uid != -1 and info.st_uid != uid) or (gid != -1 and info.st_gid != gid):
            return True
        with open(target, "rb") as f:
            return f.read() != content
    except FileNotFoundError:
        return True


DIFF_LIMIT = 64 * 1024


def text_diff(target, content, label, show=True):
    """Ansible's diff of TARGET (as it is) and CONTENT (bytes) under LABEL: the text of both sides when SHOW and
    both are UTF-8 text of at most DIFF_LIMIT bytes, otherwise only their sizes (a secret, a binary, a large file)."""
    try:
        with open(target, "rb") as f:
            before = f.read()
    except (FileNotFoundError, IsADirectoryError):
        before = b""

    def side(data):
        try:
            if show and len(data) <= DIFF_LIMIT:
                return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        return f"({len(data)} bytes, not shown)\n"

    return {"before_header": label, "after_header": label, "before": side(before), "after": side(content)}


def write_file(module, target, content, mode, uid=-1, gid=-1, validate=None):
    """Write TARGET through a temporary file beside it: mode and owner set, VALIDATE (a command, %s the temporary
    file) run on it, then renamed into place. A rejected file fails the module and leaves TARGET as it was."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    # a new name of its own (O_EXCL, mode 0600): never a file or link someone left under a name known in advance
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        if validate:
            rc, out, err = module.run_command(shlex.split(validate.replace("%s", shlex.quote(tmp))))
            if rc != 0:
                module.fail_json(msg=f"failed to validate {target}", rc=rc, stdout=out, stderr=err, path=target)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
