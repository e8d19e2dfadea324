"""A browser-like JupyterHub client, run by the tests INSIDE the vixtract-jupyterhub container (its venv has
requests and tornado), against the Hub on 127.0.0.1:8000 — the port is on the stack network only.

  python hub_session.py login USER          -> {"ok": bool, "status": int}
  python hub_session.py start USER          -> log in, start the server, open JupyterLab
  python hub_session.py run USER CODE       -> log in, start the server, run CODE in a new kernel
  python hub_session.py reach USER OTHER    -> log in as USER, then try what only OTHER (or root) may do: open
                                               OTHER's server, mint a token for OTHER, rename USER to root

The password comes from the environment (HUB_PASSWORD). Prints one JSON line.
"""
import asyncio
import json
import os
import sys
import time
import uuid

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

HOST = "127.0.0.1:8000"
BASE = os.environ.get("HUB_BASE_URL", "/jupyter")


def cookie(session, name, path_prefix):
    for c in session.cookies:
        if c.name == name and path_prefix.startswith(c.path.rstrip("/")):
            return c.value
    return None


def login(user, password):
    s = requests.Session()
    s.get(f"http://{HOST}{BASE}/hub/login", timeout=30)
    xsrf = cookie(s, "_xsrf", f"{BASE}/hub/")
    r = s.post(f"http://{HOST}{BASE}/hub/login", data={"username": user, "password": password, "_xsrf": xsrf},
               allow_redirects=False, timeout=60)
    ok = r.status_code == 302 and any(c.name.startswith("jupyterhub-session") for c in s.cookies)
    return s, ok, r.status_code


def start(s, user):
    hub = f"http://{HOST}{BASE}/hub/api"
    headers = {"X-XSRFToken": cookie(s, "_xsrf", f"{BASE}/hub/") or ""}
    model = s.get(f"{hub}/users/{user}", headers=headers, timeout=30).json()
    if not model.get("servers", {}).get("", {}).get("ready"):
        r = s.post(f"{hub}/users/{user}/server", headers=headers, timeout=120)
        if r.status_code not in (201, 202, 400):
            raise RuntimeError(f"start server: HTTP {r.status_code} {r.text[:300]}")
        for _attempt in range(90):
            model = s.get(f"{hub}/users/{user}", headers=headers, timeout=30).json()
            if model.get("servers", {}).get("", {}).get("ready"):
                break
            time.sleep(2)
        else:
            raise RuntimeError(f"server of {user} not ready: {model}")
    # opening JupyterLab walks the OAuth handshake and leaves the single-user server's cookies in the session
    lab = s.get(f"http://{HOST}{BASE}/user/{user}/lab", timeout=60)
    return {"lab_status": lab.status_code, "lab_url": lab.url, "is_lab": "JupyterLab" in lab.text}


async def execute(s, user, code):
    api = f"http://{HOST}{BASE}/user/{user}/api"
    headers = {"X-XSRFToken": cookie(s, "_xsrf", f"{BASE}/user/{user}/") or ""}
    kernel = s.post(f"{api}/kernels", json={"name": "python3"}, headers=headers, timeout=60)
    if kernel.status_code != 201:
        raise RuntimeError(f"start kernel: HTTP {kernel.status_code} {kernel.text[:300]}")
    kid = kernel.json()["id"]
    cookies = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
    ws = await websocket_connect(HTTPRequest(f"ws://{HOST}{BASE}/user/{user}/api/kernels/{kid}/channels",
                                             headers={"Cookie": cookies}))
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": user, "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    out, error = [], None
    deadline = time.time() + 120
    while time.time() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), timeout=120)
        if raw is None:
            break
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            break
    ws.close()
    s.delete(f"{api}/kernels/{kid}", headers=headers, timeout=30)
    return {"stdout": "".join(out), "error": error}


def reach(s, other):
    """HTTP statuses of what the logged-in user tries against OTHER (redirects not followed)."""
    hub = f"http://{HOST}{BASE}/hub/api"
    headers = {"X-XSRFToken": cookie(s, "_xsrf", f"{BASE}/hub/") or ""}
    me = s.get(f"{hub}/user", headers=headers, timeout=30).json()
    return {
        "whoami": me.get("name"), "roles": sorted(me.get("roles", [])), "admin": me.get("admin"),
        "admin_page": s.get(f"http://{HOST}{BASE}/hub/admin", allow_redirects=False, timeout=30).status_code,
        "read_other": s.get(f"{hub}/users/{other}", headers=headers, timeout=30).status_code,
        # through the OAuth handshake, as a browser would: the Hub decides at its end
        "open_other_server": s.get(f"http://{HOST}{BASE}/user/{other}/api/kernels", timeout=60).status_code,
        "token_for_other": s.post(f"{hub}/users/{other}/tokens", json={"note": "x"}, headers=headers,
                                  timeout=30).status_code,
        "rename_to_root": s.patch(f"{hub}/users/{me.get('name')}", json={"name": "root"}, headers=headers,
                                  timeout=30).status_code,
        "make_admin": s.patch(f"{hub}/users/{other}", json={"admin": True}, headers=headers, timeout=30).status_code,
    }


def main():
    action, user = sys.argv[1], sys.argv[2]
    s, ok, status = login(user, os.environ["HUB_PASSWORD"])
    result = {"ok": ok, "status": status}
    if ok and action in ("start", "run"):
        result.update(start(s, user))
    if ok and action == "run":
        result.update(asyncio.run(execute(s, user, sys.argv[3])))
    if ok and action == "reach":
        result.update(reach(s, sys.argv[3]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
