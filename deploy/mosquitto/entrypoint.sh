#!/bin/sh
# Starts mosquitto in the Smart Village stack (docker-compose.yml makes this the container's entrypoint).
#
# The password file, ACL and TLS key are generated on the host, owned by the officer, mode 0600. mosquitto reads
# them after dropping root for its own user, and 2.x warns (later versions refuse) when such files are not its
# own. So they are copied, as root, into a directory only that user can read. On SIGHUP
# (`docker compose kill -s HUP mosquitto`, after `village devices provision`) they are copied again and the
# broker reloads its logins and ACL without dropping connections.
#
# The variables below exist so the tests can run this script on the real broker outside a container.
set -eu

auth_src=${VILLAGE_BROKER_AUTH_SRC:-/village/auth}
tls_src=${VILLAGE_BROKER_TLS_SRC:-/village/tls}
run_dir=${VILLAGE_BROKER_RUN_DIR:-/mosquitto/auth}
data_dir=${VILLAGE_BROKER_DATA_DIR:-/mosquitto/data}
config=${VILLAGE_BROKER_CONFIG:-/mosquitto/config/mosquitto.conf}
binary=${VILLAGE_BROKER_BINARY:-mosquitto}
owner=${VILLAGE_BROKER_USER:-mosquitto}
group=$(id -gn "$owner")

copy_private() { # SOURCE NAME: replace atomically, so the broker never reads half a file
	install -o "$owner" -g "$group" -m 0600 "$1" "$run_dir/.$2.new" || return 1
	mv -f "$run_dir/.$2.new" "$run_dir/$2" || return 1
}

install_files() {
	install -d -o "$owner" -g "$group" -m 0700 "$run_dir" || return 1
	copy_private "$auth_src/passwd" passwd || return 1
	copy_private "$auth_src/acl" acl || return 1
	copy_private "$tls_src/server.crt" server.crt || return 1
	copy_private "$tls_src/server.key" server.key || return 1
}

for needed in "$auth_src/passwd" "$auth_src/acl" "$tls_src/server.crt" "$tls_src/server.key"; do
	if [ ! -r "$needed" ]; then
		echo "missing $needed: run deploy/make-certs.sh and village devices provision first" >&2
		exit 78 # EX_CONFIG
	fi
done
install_files
mkdir -p "$data_dir"
chown -R "$owner:$group" "$data_dir"

"$binary" -c "$config" &
broker=$!

reload() {
	if install_files; then
		kill -HUP "$broker"
		echo "entrypoint: files copied again; mosquitto reloads logins and ACL (a new certificate needs a restart)" >&2
	else
		echo "entrypoint: could not copy the new files; mosquitto keeps the previous logins" >&2
	fi
}
trap reload HUP
trap 'kill -TERM "$broker" 2>/dev/null' TERM INT

# `wait` returns early when a trapped signal arrives; keep waiting until the broker itself has exited.
status=0
while :; do
	if wait "$broker"; then status=0; else status=$?; fi
	kill -0 "$broker" 2>/dev/null || break
done
exit "$status"
