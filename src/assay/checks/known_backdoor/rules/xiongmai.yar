// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule xiongmai_9530_telnet
{
    meta:
        name = "xiongmai-9530-opentelnet"
        cve = ""
        references = "https://habr.com/en/post/486856/ https://github.com/tothi/pwn-hisilicon-dvr"
        description = "Xiongmai (HiSilicon-based DVR/NVR/IP camera) TCP 9530 service that starts telnetd on the command 'OpenTelnet:OpenOnce'"
        severity = "critical"
    strings:
        $cmd = "OpenTelnet:OpenOnce" ascii wide
        $c1 = "OpenTelnet:"
        $c2 = "OpenOnce"
        $helper1 = "macGuarder"
        $helper2 = "dvrHelper"
        $port0 = { 3A 25 ?? (24|34) }
        $port1 = { (24|34) ?? 25 3A }
        $port2 = { 3A 25 ?? 3C }
        $port3 = { 3C ?? 25 3A }
        $port4 = { 3A ?5 02 E3 }
        $port5 = { 42 F2 3A 5? }
        $port6 = { 3A 25 00 00 }
        $port7 = { 00 00 25 3A }
        $port8 = { 25 3A ?? (24|34) }
        $port9 = { (24|34) ?? 3A 25 }
        $port10 = { 25 3A ?? 3C }
        $port11 = { 3C ?? 3A 25 }
        $port12 = { 25 ?A 03 E3 }
        $port13 = { 43 F6 25 2? }
        $port14 = { 25 3A 00 00 }
        $port15 = { 00 00 3A 25 }
    condition:
        $cmd or ($c1 and $c2) or (any of ($helper*) and $c1 and any of ($port*))
}
