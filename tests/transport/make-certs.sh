#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with the openssl CLI (never committed; CTest runs this
# as the fixture tls.certs). In DIR:
#   ca.pem ca.key               the cluster CA
#   node0..2.pem/.key           node certificates, subjectAltName URI:capkit://node/<id>
#   client.pem/.key             a client certificate, URI:capkit://client/alice
#   other-ca.pem                another CA, which signed
#   rogue.pem/.key              a node 2 certificate, and
#   mallory.pem/.key            a client certificate, URI:capkit://client/mallory
#   liar.pem/.key               signed by the cluster CA, names node 1 (to be used as node 2)
# Usage: make-certs.sh DIR
set -euo pipefail
dir=$1
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
days=30

ca() {  # name subject
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
    -subj "$2" -keyout "$1.key" -out "$1.pem" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() {  # name ca subject san
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$3" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$days" \
    -out "$1.pem" -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$4") \
    2>/dev/null
  rm "$1.csr"
}

ca ca "/CN=capkit test cluster CA"
for i in 0 1 2; do leaf "node$i" ca "/CN=capkit node $i" "URI:capkit://node/$i,IP:127.0.0.1"; done
leaf client ca "/CN=alice" "URI:capkit://client/alice"
ca other-ca "/CN=another CA"
leaf rogue other-ca "/CN=capkit node 2" "URI:capkit://node/2,IP:127.0.0.1"
leaf mallory other-ca "/CN=mallory" "URI:capkit://client/mallory"
leaf liar ca "/CN=capkit node 2" "URI:capkit://node/1,IP:127.0.0.1"
openssl verify -CAfile ca.pem node0.pem client.pem liar.pem >/dev/null
! openssl verify -CAfile ca.pem rogue.pem >/dev/null 2>&1
! openssl verify -CAfile ca.pem mallory.pem >/dev/null 2>&1
echo "certificates in $dir"
