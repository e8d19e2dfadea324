"""pem_certificates: the certificates of PEM text, each once, sorted, re-wrapped at 64 characters; whatever else the
text holds is left out. Real certificates made here with `cryptography` build the inputs; the expected output is
written from what cryptography itself writes (64-character lines, one block after another)."""
import datetime
import textwrap

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.vixtract.stack.plugins.filter.pem import FilterModule, pem_certificates

BEGIN, END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def certificate(name):
    """A self-signed CA certificate as cryptography writes it in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


@pytest.fixture(scope="module")
def certs():
    """Three certificates (PEM as cryptography writes it), sorted as the filter must sort them, and a key."""
    made = [certificate(f"Test CA {n}") for n in ("one", "two", "three")]
    pems = sorted(pem for pem, _unused in made)
    return pems, made[0][1]


def body(pem):
    """The base64 of a PEM block on one line."""
    return "".join(pem.strip().splitlines()[1:-1])


def test_cryptography_writes_what_the_filter_must_give(certs):
    """The premise of the expectations below: one block, 64-character lines, a newline at the end."""
    pems, _unused = certs
    for pem in pems:
        lines = pem.split("\n")
        assert lines[0] == BEGIN and lines[-2:] == [END, ""]
        assert all(len(line) == 64 for line in lines[1:-3]) and 0 < len(lines[-3]) <= 64


# "MAMCAQE=" is the DER SEQUENCE 30 03 02 01 01 (an INTEGER 1 inside): the smallest thing shaped like a certificate
def test_hand_written_block_is_rewrapped_and_the_rest_dropped():
    text = "Bundle of 2026\n" + BEGIN + "\n  MAMC\n  AQE=\n" + END + "\ntrailing words"
    assert pem_certificates(text) == BEGIN + "\nMAMCAQE=\n" + END + "\n"


def test_hand_written_long_block_is_cut_at_64_characters():
    # 30 3c followed by 60 bytes 'A': 62 bytes, 84 base64 characters
    data = "MDxBQUFB" + "QUFB" * 19
    assert pem_certificates(BEGIN + data + END) == (
        BEGIN + "\n" + "MDxBQUFB" + "QUFB" * 14 + "\n" + "QUFB" * 5 + "\n" + END + "\n")


@pytest.mark.parametrize("body", ["", "QUJDREVG", "aGVsbG8="], ids=["empty", "ABCDEF", "hello"])
def test_a_block_that_holds_no_certificate_is_refused(body):
    with pytest.raises(AnsibleFilterError, match="does not hold a certificate"):
        pem_certificates(BEGIN + "\n" + body + "\n" + END)


def test_the_same_certificate_written_two_ways_is_one():
    # 'MAMCAQE=' and 'MAMCAQF=' decode to the same five bytes (the last character's low bits are padding)
    assert pem_certificates(BEGIN + "MAMCAQE=" + END + BEGIN + "MAMCAQF=" + END) == BEGIN + "\nMAMCAQE=\n" + END + "\n"


def test_one_certificate_as_written_comes_back_the_same(certs):
    pems, _unused = certs
    assert pem_certificates(pems[1]) == pems[1]


def test_certificates_come_back_sorted_whatever_their_order(certs):
    a, b, c = certs[0]
    for text in (a + b + c, c + b + a, b + a + c, c + a + b):
        assert pem_certificates(text) == a + b + c


@pytest.mark.parametrize("wrap", [
    lambda data: [data],
    lambda data: textwrap.wrap(data, 76),
    lambda data: textwrap.wrap(data, 40),
    lambda data: textwrap.wrap(data, 1),
], ids=["one line", "76 columns", "40 columns", "one character a line"])
def test_line_wrapping_of_the_input_does_not_matter(certs, wrap):
    pems, _unused = certs
    text = BEGIN + "\n" + "\n".join(wrap(body(pems[0]))) + "\n" + END + "\n"
    assert pem_certificates(text) == pems[0]


@pytest.mark.parametrize("change", [
    lambda pem: pem.replace("\n", "\r\n"),
    lambda pem: "\n".join("    " + line for line in pem.split("\n")),
    lambda pem: pem.replace("\n", "\n\n"),
    lambda pem: pem.rstrip("\n"),
    lambda pem: pem.replace(BEGIN + "\n", BEGIN).replace("\n" + END, END),
    lambda pem: pem.replace("\n", "\t\n "),
], ids=["CRLF", "indented", "blank lines", "no newline at the end", "base64 on the marker lines", "tabs and spaces"])
def test_whitespace_does_not_matter(certs, change):
    pems, _unused = certs
    assert pem_certificates(change(pems[0]) + change(pems[2])) == pems[0] + pems[2]


def test_repeats_are_dropped(certs):
    a, b, c = certs[0]
    assert pem_certificates(b + a + b + b + a) == a + b
    assert pem_certificates(a + a.replace("\n", "\r\n")) == a


def test_text_outside_the_blocks_is_dropped(certs):
    (a, b, c), key = certs
    text = ("# Site CA bundle\nsubject=CN = Test CA one\n" + a + "\nissuer: someone\n" + key
            + "-----BEGIN X509 CRL-----\nQUJD\n-----END X509 CRL-----\n" + b + "end of file\n")
    assert pem_certificates(text) == a + b


def test_trusted_certificate_blocks_are_not_certificate_blocks(certs):
    pems, _unused = certs
    trusted = pems[0].replace("BEGIN CERTIFICATE", "BEGIN TRUSTED CERTIFICATE").replace(
        "END CERTIFICATE", "END TRUSTED CERTIFICATE")
    assert pem_certificates(trusted + pems[1]) == pems[1]


def test_own_output_gives_the_same_output(certs):
    a, b, c = certs[0]
    once = pem_certificates(c + "comment\n" + a + a + b)
    assert once == a + b + c
    assert pem_certificates(once) == once


def test_output_joined_with_its_input_in_another_order_gives_the_same_output(certs):
    """The trust store case: the regenerated bundle holds the copy and the input again, in its own order."""
    (a, b, c), key = certs
    given = "# ours\n" + c.replace("\n", "\r\n") + a
    once = pem_certificates(given)
    assert once == a + c
    assert pem_certificates(once + given) == once
    assert pem_certificates(a + once + c) == once
    assert pem_certificates(key + once + "trailer") == once


@pytest.mark.parametrize("text", [
    "",
    "no PEM here at all\n",
    BEGIN + "\nQUJD\n",
    "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n",
    "-----BEGIN TRUSTED CERTIFICATE-----\nQUJD\n-----END TRUSTED CERTIFICATE-----\n",
    END + "\nQUJD\n" + BEGIN,
], ids=["empty", "text", "no end line", "a private key only", "a trusted certificate only", "end before begin"])
def test_text_without_a_certificate_fails(text):
    with pytest.raises(AnsibleFilterError) as error:
        pem_certificates(text)
    assert error.value.message == "pem_certificates: the text holds no -----BEGIN CERTIFICATE----- block"


def test_private_key_alone_fails(certs):
    with pytest.raises(AnsibleFilterError) as error:
        pem_certificates(certs[1])
    assert error.value.message == "pem_certificates: the text holds no -----BEGIN CERTIFICATE----- block"


@pytest.mark.parametrize("data", [
    "QUJD!!!!",
    "QUJ",
    "QU=JD",
    "QUJD\u00e9QUJD",
    "QUJD-_JD",
    "subject=CN = x",
], ids=["not a base64 character", "missing padding", "padding inside", "non-ASCII", "URL-safe alphabet",
        "text in the block"])
def test_block_that_is_not_base64_fails(data):
    with pytest.raises(AnsibleFilterError) as error:
        pem_certificates(BEGIN + "\n" + data + "\n" + END + "\n")
    assert error.value.message.startswith("pem_certificates: a certificate block is not valid base64 ("), \
        error.value.message


def test_one_bad_block_among_good_ones_fails(certs):
    a, b, c = certs[0]
    with pytest.raises(AnsibleFilterError):
        pem_certificates(a + BEGIN + "\n%%%%\n" + END + "\n" + b)


def test_private_key_between_the_markers_fails(certs):
    """A key pasted inside a certificate's markers is not base64 (its own marker lines are inside)."""
    pems, key = certs
    with pytest.raises(AnsibleFilterError):
        pem_certificates(BEGIN + "\n" + key + END + "\n")


@pytest.mark.parametrize("value", [None, 42, b"-----BEGIN CERTIFICATE-----", ["x"]],
                         ids=["none", "number", "bytes", "list"])
def test_input_that_is_not_text_fails(value):
    with pytest.raises(AnsibleFilterError) as error:
        pem_certificates(value)
    assert error.value.message == "pem_certificates expects PEM text"


def test_collection_exposes_the_filter():
    assert FilterModule().filters() == {"pem_certificates": pem_certificates}
