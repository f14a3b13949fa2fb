#!/usr/bin/env bash
# A small certificate authority and the broker's TLS certificate for one village install.
#
#   deploy/make-certs.sh [--data-dir DIR] [--days N] [--renew] NAME_OR_ADDRESS...
#
# NAME_OR_ADDRESS: every host name and IP address the boards use to reach the broker, e.g.
#   deploy/make-certs.sh iot.phuan.binhduong.gov.vn 192.168.1.10
# localhost, 127.0.0.1 and mosquitto (the broker's name inside the compose stack) are always included.
#
# Writes, under DIR (default: VILLAGE_DATA_DIR from the environment or .env, else ./.village):
#   ca/ca.key       the CA's private key (0600). Never leaves this machine; keep an offline backup.
#   ca/ca.crt       the CA certificate (10 years)
#   tls/ca.crt      a copy of it: flash it onto every board; the stack's containers trust it
#   tls/server.crt  the broker's certificate (default 5 years), signed by the CA
#   tls/server.key  its private key (0600)
# Running it again changes nothing. --renew issues a new broker certificate from the same CA, so boards keep
# working; the CA itself is never replaced (every board trusts it), delete ca/ by hand to start over.
# Keys are ECDSA P-256: small, and supported by mbedTLS (ESP-IDF, Arduino) and BearSSL.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
days=1825
ca_days=3650
renew=no
data_dir=""
names=()

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--data-dir) data_dir=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	--renew) renew=yes; shift ;;
	-h | --help) usage 0 ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) names+=("$1"); shift ;;
	esac
done

if [ -z "$data_dir" ]; then
	from_env_file=""
	if [ -f "$root/.env" ]; then from_env_file=$(sed -n 's/^VILLAGE_DATA_DIR=//p' "$root/.env" | tail -n 1); fi
	data_dir=${VILLAGE_DATA_DIR:-${from_env_file:-./.village}}
	case $data_dir in /*) ;; *) data_dir="$root/${data_dir#./}" ;; esac
fi
ca_dir="$data_dir/ca"
tls_dir="$data_dir/tls"
umask 077
mkdir -p "$ca_dir" "$tls_dir"
chmod 0700 "$ca_dir"
chmod 0755 "$data_dir" "$tls_dir" # the containers' own users must reach tls/ca.crt

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f "$ca_dir/ca.key" ]; then
	if [ -f "$ca_dir/ca.crt" ]; then
		echo "$ca_dir/ca.crt exists without its key; restore ca.key from your backup" >&2
		exit 1
	fi
	cat >"$work/ca.cnf" <<-EOF
		[req]
		distinguished_name = dn
		x509_extensions = ca
		prompt = no
		[dn]
		O = Smart Village
		CN = Smart Village CA $(hostname) $(date -u +%Y-%m-%d)
		[ca]
		basicConstraints = critical, CA:TRUE, pathlen:0
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
	EOF
	new_key "$ca_dir/ca.key"
	openssl req -x509 -new -config "$work/ca.cnf" -key "$ca_dir/ca.key" -sha256 -days "$ca_days" \
		-set_serial "0x$(openssl rand -hex 16)" -out "$ca_dir/ca.crt"
	echo "Created a new CA: $ca_dir/ca.crt (back up $ca_dir/ca.key somewhere offline)"
	renew=yes
fi
install -m 0644 "$ca_dir/ca.crt" "$tls_dir/ca.crt"

if [ "$renew" = no ] && [ -f "$tls_dir/server.crt" ] && [ -f "$tls_dir/server.key" ]; then
	echo "The broker certificate exists ($(openssl x509 -in "$tls_dir/server.crt" -noout -enddate)); --renew replaces it"
	exit 0
fi

{
	echo "[server]"
	echo "basicConstraints = critical, CA:FALSE"
	echo "keyUsage = critical, digitalSignature"
	echo "extendedKeyUsage = serverAuth"
	echo "subjectKeyIdentifier = hash"
	echo "authorityKeyIdentifier = keyid, issuer"
	echo "subjectAltName = @alt"
	echo "[alt]"
	dns=0 ip=0
	for name in localhost mosquitto 127.0.0.1 "${names[@]}"; do
		if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
			ip=$((ip + 1)) && echo "IP.$ip = $name"
		else
			dns=$((dns + 1)) && echo "DNS.$dns = $name"
		fi
	done
} >"$work/server.ext"
printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nO = Smart Village\nCN = %s\n' \
	"${names[0]:-mosquitto}" >"$work/req.cnf"

new_key "$work/server.key"
openssl req -new -config "$work/req.cnf" -key "$work/server.key" -out "$work/server.csr"
openssl x509 -req -in "$work/server.csr" -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" -sha256 -days "$days" \
	-set_serial "0x$(openssl rand -hex 16)" -extfile "$work/server.ext" -extensions server \
	-out "$work/server.crt" 2>/dev/null
install -m 0600 "$work/server.key" "$tls_dir/server.key"
install -m 0644 "$work/server.crt" "$tls_dir/server.crt"

echo "Broker certificate: $tls_dir/server.crt"
openssl x509 -in "$tls_dir/server.crt" -noout -enddate -ext subjectAltName 2>/dev/null |
	sed 's/^/  /'
echo "Flash $tls_dir/ca.crt onto the boards. After --renew: docker compose restart mosquitto"
