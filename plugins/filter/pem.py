# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""pem_certificates: the certificates of PEM text, each once, in a fixed order.

  "{{ lookup('ansible.builtin.file', '/etc/ssl/certs/ca-certificates.crt') | vixtract.stack.pem_certificates }}"

Used where the stack copies CA certificates (vixtract_extra_ca_certificates) into a trust store: the copy
depends only on which certificates the file holds, not on their order, line wrapping, comments or repeats.
So a file that the trust store itself regenerates (the system bundle, which then also contains the copy)
converges: the next run finds the same set and changes nothing.
"""
from __future__ import annotations

import base64
import binascii
import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: pem_certificates
short_description: The certificates of PEM text, each once, sorted
version_added: 1.1.0
description:
  - Finds every C(-----BEGIN CERTIFICATE-----) block of the input, re-wraps its base64 at 64 characters,
    drops repeats and returns them sorted, one after another.
  - Text outside the blocks (comments, private keys, other PEM types) is left out.
  - Fails when the input holds no certificate or a block that is not valid base64.
positional: _input
options:
  _input:
    description: PEM text, for example the content of a CA bundle.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Trust a CA bundle on the host
  ansible.builtin.copy:
    content: "{{ lookup('ansible.builtin.file', ca_file) | vixtract.stack.pem_certificates }}"
    dest: /usr/local/share/ca-certificates/site.crt
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The certificates, each as a PEM block ending with a newline.
  type: str
"""

BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def pem_certificates(text):
    if not isinstance(text, str):
        raise AnsibleFilterError("pem_certificates expects PEM text")
    blocks = set()
    for body in BLOCK.findall(text):
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as e:
            raise AnsibleFilterError(f"pem_certificates: a certificate block is not valid base64 ({e})") from e
        # a certificate is a DER SEQUENCE; anything else in a CERTIFICATE block is not one
        if len(der) < 2 or der[0] != 0x30:
            raise AnsibleFilterError("pem_certificates: a CERTIFICATE block does not hold a certificate")
        data = base64.b64encode(der).decode()  # the same certificate always reads the same
        lines = [data[i:i + 64] for i in range(0, len(data), 64)]
        blocks.add("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
    if not blocks:
        raise AnsibleFilterError("pem_certificates: the text holds no -----BEGIN CERTIFICATE----- block")
    return "".join(sorted(blocks))


class FilterModule:
    def filters(self):
        return {"pem_certificates": pem_certificates}
