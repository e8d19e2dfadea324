"""A stand-in for pypa's get-pip.py, for ansible-test (scripts/sanity puts it in ansible-test's cache).

ansible-test creates each sanity test's virtual environment without pip, then runs get-pip.py to install the pip
version it pins from the package index. It downloads get-pip.py from ci-files.testing.ansible.com, which is not
reachable everywhere (nor is bootstrap.pypa.io), but takes it from ~/.ansible/test/cache when it is there.

This does what get-pip.py does with the pip wheel that Python's own ensurepip uses (bundled with Python, or in
Debian's /usr/share/python-wheels from python3-pip-whl, which python3-venv brings): it runs
`pip install --upgrade --force-reinstall ARGS`, ARGS being ansible-test's (the pinned pip, index options). Like
get-pip.py it takes --no-setuptools and --no-wheel itself; it never installs setuptools or wheel unasked.
"""
from __future__ import annotations

import glob
import os
import sys
import sysconfig

import ensurepip


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    # where ensurepip finds its wheels: beside it, or (Debian) in the directory the interpreter was built to use
    places = [os.path.join(os.path.dirname(ensurepip.__file__), "_bundled"), sysconfig.get_config_var("WHEEL_PKG_DIR")]
    wheels = sorted(wheel for place in places if place for wheel in glob.glob(os.path.join(place, "pip-*.whl")))
    if not wheels:
        print(f"get_pip.py: no pip wheel for ensurepip in {' or '.join(p for p in places if p)} "
              "(Debian: apt-get install python3-venv)")
        return 1
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    return pip_main(["install", "--upgrade", "--force-reinstall"] + args)


if __name__ == "__main__":
    sys.exit(main())
