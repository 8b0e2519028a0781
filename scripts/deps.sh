#!/usr/bin/env bash
# Installs what coredig's tests need on Debian 12: compilers for the crasher programs,
# gdb and elfutils as oracles and peers, libc6-dbg for libc's separate debug file, the
# aarch64, ppc64le, s390x, armhf and riscv64 cross toolchains and qemu-user for their cores (riscv64's
# through qemu's gdbstub and gdb-multiarch), and the compressors for
# compressed-core tests, the 32-bit C library and libgcc for gcc -m32 (i386 cores; not
# gcc-multilib, which Debian makes conflict with gcc-aarch64-linux-gnu), python3-numpy
# for a crash in a Debian-packaged extension, python3-pytest for the incident under pytest, redis-server as a real Debian daemon to
# crash and (with redis-tools' redis-benchmark) a busy server that must read as no hang,
# postgresql-15 (initdb, postgres, pgbench under /usr/lib/postgresql/15/bin) as another, Debian's i386 CPython 3.11 through multiarch (libpython3.11:i386 and its headers;
# testcore builds an i386 interpreter around it; installing them also upgrades the amd64
# python3.11 packages to the same version, as Multi-Arch: same requires), the same for
# ppc64el and armhf (testcore builds their interpreters with the cross compilers and
# runs them under qemu-user with -L /, on the multiarch libc6:ARCH they bring, and keeps
# the cross-compiled C programs on their sysroot's libc with the guest's
# LD_LIBRARY_PATH, since the host's ld.so.cache then names libc6:ARCH; s390x's
# cannot be installed: bookworm-security has no s390x build of the amd64 python3.11's
# version, and Multi-Arch: same allows no other, so scripts/python-s390x.sh unpacks
# bookworm's into the user's cache instead), and rustc for the
# Rust crasher when no rustup toolchain is there. The pyenv
# CPythons (3.8-3.13) are part of the machine image.
set -euo pipefail
pkgs=(gcc g++ gdb binutils libc6-dbg elfutils qemu-user gcc-aarch64-linux-gnu
      libc6-dev-arm64-cross libstdc++6-arm64-cross binutils-aarch64-linux-gnu gdb-multiarch
      libc6-dev-i386 lib32gcc-12-dev
      gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross
      gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
      gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
      zstd lz4 xz-utils gzip python3.11 python3-numpy python3-pytest attr
      redis-server redis-tools postgresql-15 libpython3.11:i386 libpython3.11-dev:i386
      libpython3.11:ppc64el libpython3.11-dev:ppc64el libpython3.11:armhf libpython3.11-dev:armhf)
# The Rust crasher needs rustc: a rustup toolchain in ~/.cargo/bin serves, else Debian's.
if ! command -v rustc >/dev/null && [ ! -x "$HOME/.cargo/bin/rustc" ]; then
	pkgs+=(rustc)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages ${missing[*]}; run as root or install them" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The :i386, :ppc64el and :armhf packages need their architectures in dpkg; adding
	# one again is harmless but only done when missing, and apt-get update below fetches
	# their package lists.
	for a in i386 ppc64el armhf; do
		if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
			dpkg --add-architecture "$a"
		fi
	done
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Bookworm's s390x CPython 3.11 and the libraries it needs, unpacked into the user's
# cache (see above; kept out of dpkg's database).
bash "$(dirname "$0")/python-s390x.sh" >/dev/null
# Cores written by real kernels of other architectures, from elfutils' test suite (Debian's
# source package; kept in the user's cache, not in the tree).
bash "$(dirname "$0")/elfutils-cores.sh" >/dev/null
