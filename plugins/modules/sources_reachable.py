#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: sources_reachable
short_description: Check from a server that the remote sources a deployment needs answer
version_added: 1.1.0
description:
  - >-
    Asks each URL of O(sources) from the server, all at once, through the proxy of the task's environment
    (C(http_proxy), C(https_proxy), C(no_proxy)), and fails with one line per source that did not answer,
    giving the variable that names it, the error, and what to do instead.
  - >-
    HTTPS is verified the way the stack's image builds verify it, not with the server's own trust store,
    that is against Debian's CA list (C(/usr/share/ca-certificates/mozilla)) plus O(extra_ca_certificates).
    So a TLS-inspecting proxy whose CA is trusted on the server but not given to the stack is found here,
    before an image build fails on it.
  - Only reads; never changes anything.
options:
  sources:
    description: What to check.
    type: list
    elements: dict
    required: true
    suboptions:
      url: {description: The URL asked (GET; redirects are followed), type: str, required: true}
      variable: {description: The setting that makes the run need this source, type: str, required: true}
      fix: {description: What to set instead when it cannot be reached, type: str, required: true}
      status:
        description: HTTP answers that count as reachable (besides 200-299 after redirects).
        type: list
        elements: int
        default: []
  extra_ca_certificates:
    description: PEM certificates trusted besides Debian's CA list (the content of vixtract_extra_ca_certificates).
    type: str
    default: ""
  timeout:
    description: Seconds each source may take to answer.
    type: int
    default: 10
extends_documentation_fragment:
  - vixtract.stack.read_only
  - ansible.builtin.action_common_attributes
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The sources this server needs answer
  vixtract.stack.sources_reachable:
    sources:
      - url: https://pypi.org/simple/pip/
        variable: jupyterhub_python_packages
        fix: set vixtract_https_proxy to your proxy
"""

RETURN = r"""
checked:
  description: Every source with its outcome.
  type: list
  elements: dict
  returned: always
  contains:
    url: {description: The URL, type: str}
    variable: {description: The setting that needs it, type: str}
    ok: {description: Whether it answered, type: bool}
    answer: {description: The HTTP status or the error., type: str}
"""

import glob
import ssl
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

DEBIAN_CAS = "/usr/share/ca-certificates/mozilla/*.crt"


def trust_context(extra):
    """What the images trust: Debian's CA list plus the extra certificates (the server's default store when
    Debian's list is not installed)."""
    paths = sorted(glob.glob(DEBIAN_CAS))
    if not paths:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cadata = []
        for path in paths:
            with open(path) as f:
                cadata.append(f.read())
        context.load_verify_locations(cadata="".join(cadata))
    if extra.strip():
        context.load_verify_locations(cadata=extra)
    return context


def ask(source, context, timeout):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(source["url"], headers={"User-Agent": "vixtract.stack sources check"})
    try:
        with opener.open(request, timeout=timeout) as answer:
            return True, f"HTTP {answer.status}"
    except urllib.error.HTTPError as e:
        e.close()
        return e.code in (source.get("status") or []), f"HTTP {e.code}"
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return False, (f"TLS certificate not trusted ({reason.verify_message}): the images trust Debian's CA "
                           "list and vixtract_extra_ca_certificates only; add the CA of your TLS-inspecting proxy there")
        return False, str(reason)
    except (OSError, ValueError) as e:
        return False, str(e)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type="list", elements="dict", required=True, options=dict(
                url=dict(type="str", required=True),
                variable=dict(type="str", required=True),
                fix=dict(type="str", required=True),
                status=dict(type="list", elements="int", default=[]),
            )),
            extra_ca_certificates=dict(type="str", default=""),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    sources = module.params["sources"]
    try:
        context = trust_context(module.params["extra_ca_certificates"])
    except (ssl.SSLError, OSError) as e:
        module.fail_json(msg=f"vixtract_extra_ca_certificates: the certificates cannot be loaded: {e}")
    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        answers = list(pool.map(lambda s: ask(s, context, module.params["timeout"]), sources))
    checked = [dict(url=s["url"], variable=s["variable"], ok=ok, answer=answer)
               for s, (ok, answer) in zip(sources, answers)]
    failed = [(s, c) for s, c in zip(sources, checked) if not c["ok"]]
    if failed:
        lines = [f"{s['variable']}: {s['url']} cannot be had from this server ({c['answer']}). Fix: {s['fix']}"
                 for s, c in failed]
        module.fail_json(msg="Sources this run needs do not answer (nothing was changed; "
                             "vixtract_check_sources: false skips this check):\n" + "\n".join(lines),
                         checked=checked)
    module.exit_json(changed=False, checked=checked)


if __name__ == "__main__":
    main()
