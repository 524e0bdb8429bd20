// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule netcore_igdmptd_53413
{
    meta:
        name = "netcore-igdmptd-53413"
        cve = ""
        references = "http://blog.trendmicro.com/trendlabs-security-intelligence/netis-routers-leave-wide-open-backdoor/ https://netisscan.shadowserver.org/"
        description = "Netis/Netcore igdmptd back door: a UDP 53413 service guarded by the hard-coded password 'netcore' that uploads, downloads and runs commands"
        severity = "critical"
    strings:
        $password = "netcore" ascii wide
        $bin = "igdmptd" ascii wide
        $txt_port = "53413"
        $port0 = { D0 A5 ?? (24|34) }
        $port1 = { (24|34) ?? A5 D0 }
        $port2 = { D0 A5 ?? 3C }
        $port3 = { 3C ?? A5 D0 }
        $port4 = { D0 ?5 0A E3 }
        $port5 = { 4A F2 D0 5? }
        $port6 = { D0 A5 00 00 }
        $port7 = { 00 00 A5 D0 }
        $port8 = { A5 D0 ?? (24|34) }
        $port9 = { (24|34) ?? D0 A5 }
        $port10 = { A5 D0 ?? 3C }
        $port11 = { 3C ?? D0 A5 }
        $port12 = { A5 ?0 0D E3 }
        $port13 = { 4D F2 A5 0? }
        $port14 = { A5 D0 00 00 }
        $port15 = { 00 00 D0 A5 }
    condition:
        uint32(0) == 0x464C457F and ($password or $bin) and ($txt_port or any of ($port*))
}
