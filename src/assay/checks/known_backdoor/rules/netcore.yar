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
        $pw = "netcore" ascii wide
        $bin = "igdmptd" ascii wide
        $port_txt = "53413"
        $p0 = { D0 A5 ?? 34 }
        $p1 = { 34 ?? A5 D0 }
        $p2 = { D0 ?5 0A E3 }
        $p3 = { 4A F2 D0 5? }
        $p4 = { D0 A5 00 00 }
        $p5 = { 00 00 A5 D0 }
        $p6 = { A5 D0 ?? 34 }
        $p7 = { 34 ?? D0 A5 }
        $p8 = { A5 ?0 0D E3 }
        $p9 = { 4D F2 A5 0? }
        $p10 = { A5 D0 00 00 }
        $p11 = { 00 00 D0 A5 }
    condition:
        ($pw or $bin) and ($port_txt or any of ($p*))
}
