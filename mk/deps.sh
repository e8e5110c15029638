#!/bin/sh
# mk/deps.sh: install the Debian packages cleanops needs; nothing when all are there.
set -u
PKGS="libncurses-dev libcurl4-openssl-dev libssl-dev libjansson-dev libxml2-dev
libmicrohttpd-dev libsqlite3-dev libzip-dev libcmocka-dev pkg-config tmux zip unzip
valgrind clang dpkg-dev zlib1g-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cleanops deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "cleanops deps: not root and no sudo; install as root:$missing" >&2; exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || exit 1

# Test peers (tests only; the product never needs Python): boto3, the AWS CLI and moto_server.
if ! python3 -c 'import boto3, moto' >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1 ||
   ! command -v moto_server >/dev/null 2>&1; then
	echo "cleanops deps: installing test peers with pip (boto3, awscli, moto[server])" >&2
	python3 -m pip install --quiet boto3 awscli 'moto[server]' >&2 ||
		echo "cleanops deps: WARNING: could not install the Python test peers;" \
		     "tests that need them will say SKIP" >&2
fi
exit 0
