#!/usr/bin/env bash
# Unpacks bookworm's s390x CPython 3.11 (libpython3.11, its -stdlib, -minimal and -dev
# packages) with the s390x libraries it needs (libc6, libgcc-s1, zlib1g, libexpat1,
# libffi8) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/coredig/python3.11-s390x/
# a root testcore builds an s390x interpreter against and gives qemu-s390x with -L
# (testcore.S390XLibPython311). They are not installed through multiarch as the i386,
# ppc64el and armhf ones are: bookworm-security has no s390x build of the version of
# the host's python3.11 (3.11.2-6+deb12u9 when this was written; s390x has bookworm's
# 3.11.2-6+deb12u8), and Multi-Arch: same requires one version for all architectures.
# Needs the s390x architecture in dpkg (for apt's package lists; added when missing, as
# root) and Debian's archive. Prints the directory. Idempotent: a complete root is reused.
set -euo pipefail
dest=${XDG_CACHE_HOME:-$HOME/.cache}/coredig/python3.11-s390x
if [ -f "$dest/.complete" ]; then echo "$dest"; exit 0; fi
if ! dpkg --print-foreign-architectures | grep -qx s390x; then
	if [ "$(id -u)" != 0 ]; then
		echo "python-s390x.sh: dpkg has no s390x architecture; run as root (dpkg --add-architecture s390x)" >&2
		exit 1
	fi
	dpkg --add-architecture s390x
	apt-get update -qq
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt's _apt user downloads into it
pkgs=(libpython3.11:s390x libpython3.11-stdlib:s390x libpython3.11-minimal:s390x
      libpython3.11-dev:s390x libc6:s390x libgcc-s1:s390x zlib1g:s390x libexpat1:s390x
      libffi8:s390x)
(cd "$work" && apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1) || {
	echo "python-s390x.sh: apt-get download ${pkgs[*]} failed" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest"
for d in "$work"/*.deb; do
	dpkg -x "$d" "$dest"
done
(cd "$work" && ls *.deb) > "$dest/.complete"
echo "$dest"
