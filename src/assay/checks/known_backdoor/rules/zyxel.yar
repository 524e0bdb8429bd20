// Assay known-backdoor signatures. Integer constants are matched as data in both byte orders and
// as immediates (MIPS lui/ori|addiu, ARM movw/movt, Thumb-2, AArch64 movz/movk, PowerPC lis/ori).

rule zyxel_zyfwp
{
    meta:
        name = "zyxel-zyfwp"
        cve = "CVE-2020-29583"
        references = "https://nvd.nist.gov/vuln/detail/CVE-2020-29583 https://www.eyecontrol.nl/blog/undocumented-user-account-in-zyxel-products.html"
        description = "Zyxel firewall/AP controller undocumented admin account 'zyfwp' with the plaintext password 'PrOw!aN_fXp' (SSH and web)"
        severity = "critical"
    strings:
        $user = "zyfwp" ascii wide
        $pw = "PrOw!aN_fXp" ascii wide
        $pw1 = "PrOw!a"
        $pw2 = "aN_fXp"
    condition:
        $pw or ($user and ($pw1 or $pw2))
}
