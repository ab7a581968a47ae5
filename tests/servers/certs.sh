#!/usr/bin/env bash
# Throwaway certificates for the test servers, made with certtool (Debian
# package gnutls-bin). ECDSA P-256 keys: quick to generate, accepted by
# GnuTLS's medium profile and by Prosody's OpenSSL.
#
#   certs.sh DIR
#       Writes into DIR (PEM; keys are *.key):
#         ca.pem            the test CA (what clients should trust)
#         localhost.pem     SAN DNS:localhost, signed by ca.pem
#         wrong.pem         SAN DNS:wrong.example, signed by ca.pem
#         untrusted-ca.pem  a second CA that clients do not trust
#         untrusted.pem     SAN DNS:localhost, signed by untrusted-ca.pem
#         localhost.pin     pin-sha256 of localhost.pem's key (base64 SHA-256
#                           of the DER SubjectPublicKeyInfo)
#       Exit 77 if certtool is not installed, 1 on any other failure.
set -euo pipefail

dir=${1:?usage: certs.sh DIR}
command -v certtool >/dev/null 2>&1 || {
    echo "certtool not installed (apt-get install gnutls-bin)" >&2
    exit 77
}
mkdir -p "$dir"
cd "$dir"

key() {
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$1.key" 2>/dev/null
}

# ca NAME CN: a self-signed CA.
ca() {
    key "$1"
    cat >"$1.tmpl" <<EOF
cn = "$2"
organization = "Canto tests"
ca
cert_signing_key
crl_signing_key
expiration_days = 30
EOF
    certtool --generate-self-signed --load-privkey "$1.key" --template "$1.tmpl" \
        --outfile "$1.pem" 2>/dev/null
}

# leaf NAME DNSNAME ISSUER: a TLS server certificate signed by ISSUER.
leaf() {
    key "$1"
    cat >"$1.tmpl" <<EOF
cn = "$2"
organization = "Canto tests"
dns_name = "$2"
tls_www_server
signing_key
expiration_days = 30
EOF
    certtool --generate-certificate --load-privkey "$1.key" --load-ca-certificate "$3.pem" \
        --load-ca-privkey "$3.key" --template "$1.tmpl" --outfile "$1.pem" 2>/dev/null
}

ca ca "Canto Test CA"
ca untrusted-ca "Canto Untrusted CA"
leaf localhost localhost ca
leaf wrong wrong.example ca
leaf untrusted localhost untrusted-ca
rm -f ./*.tmpl

# certtool prints "pin-sha256:BASE64" among the certificate details.
certtool -i --infile localhost.pem | sed -n 's/^[[:space:]]*pin-sha256:\([A-Za-z0-9+/=]*\).*/\1/p' |
    head -n 1 >localhost.pin
[[ -s localhost.pin ]] || {
    echo "certs.sh: no pin-sha256 in certtool output" >&2
    exit 1
}
# Prosody may run as another user; the keys are throwaway.
chmod 644 ./*.key
