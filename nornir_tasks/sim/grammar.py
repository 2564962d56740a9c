"""Declarative IOS-XE / C9800 grammar the config engine runs on: data, not if-chains.

* ``OPENERS``: which lines open a sub-mode, under which parent mode, and the prompt.
  Derived from ``tests/golden/*.cfg`` (every line there with indented children).
* ``SINGLE``: commands that replace their previous value instead of adding a line.
  A superset of hier_config 3.7.1's ``idempotent_commands`` for Cisco IOS (vlan name,
  interface description / ip address / switchport mode / authentication host-mode,
  errdisable recovery interval, logging console), so its remediation converges here.
* ``BASE_VOCABULARY``: commands known in each mode, in config-file form. Together with
  what a device's own loaded config teaches, it decides which mode a line belongs to
  (IOS pops back to global config when a line is not valid in the current sub-mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Opener:
    """A line that opens a sub-mode ``kind`` when entered in mode ``parent``."""

    parent: str
    pattern: re.Pattern[str]
    kind: str
    prompt: str


def _op(parent: str, pattern: str, kind: str, prompt: str) -> Opener:
    return Opener(parent, re.compile(pattern), kind, prompt)


OPENERS: tuple[Opener, ...] = (
    _op("global", r"^interface \S+$", "if", "config-if"),
    _op("global", r"^vlan \d+$", "vlan", "config-vlan"),
    _op("global", r"^ip access-list standard \S+$", "std-nacl", "config-std-nacl"),
    _op("global", r"^ip access-list extended \S+$", "ext-nacl", "config-ext-nacl"),
    _op("global", r"^ipv6 access-list \S+$", "ipv6-acl", "config-ipv6-acl"),
    _op("global", r"^line (con|vty|aux) \d+( \d+)?$", "line", "config-line"),
    _op("global", r"^router \S+( \S+)?$", "router", "config-router"),
    _op("router", r"^address-family \S+", "router-af", "config-router-af"),
    _op("router", r"^template peer-(policy|session) \S+$", "router-tmpl", "config-router-ptmp"),
    _op("global", r"^vrf definition \S+$", "vrf", "config-vrf"),
    _op("vrf", r"^address-family \S+", "vrf-af", "config-vrf-af"),
    _op("global", r"^radius server \S+$", "radius", "config-radius-server"),
    _op("global", r"^tacacs server \S+$", "tacacs", "config-server-tacacs"),
    _op("global", r"^aaa group server (radius|tacacs\+) \S+$", "sg", "config-sg-radius"),
    _op("global", r"^aaa server radius dynamic-author$", "locsvr", "config-locsvr-da-radius"),
    _op("global", r"^redundancy$", "red", "config-red"),
    _op("global", r"^control-plane$", "cp", "config-cp"),
    _op("global", r"^class-map .+$", "cmap", "config-cmap"),
    _op("global", r"^policy-map .+$", "pmap", "config-pmap"),
    _op("pmap", r"^event \S+.*$", "pmap-event", "config-class-control-policymap"),
    _op("pmap", r"^class \S+.*$", "pmap-c", "config-pmap-c"),
    _op("pmap-event", r"^\d+ class \S+.*$", "pmap-action", "config-action-control-policymap"),
    _op("global", r"^service-template \S+$", "svc-tmpl", "config-service-template"),
    _op("global", r"^route-map \S+( (permit|deny))?( \d+)?$", "route-map", "config-route-map"),
    _op("global", r"^ipv6 nd raguard policy \S+$", "ra-guard", "config-ra-guard"),
    _op("global", r"^wireless profile flex \S+$", "wflex", "config-wireless-flex-profile"),
    _op("wflex", r"^vlan-name \S+$", "wflex-vlan", "config-wireless-flex-profile-vlan"),
    _op("global", r"^wireless profile policy \S+$", "wpolicy", "config-wireless-policy"),
    _op("global", r"^wireless tag site \S+$", "site-tag", "config-site-tag"),
    _op("global", r"^wireless tag policy \S+$", "policy-tag", "config-policy-tag"),
    _op("global", r"^wireless tag rf \S+$", "rf-tag", "config-wireless-rf-tag"),
    _op("global", r"^wlan \S+( \d+( \S+)?)?$", "wlan", "config-wlan"),
    _op("global", r"^ap profile \S+$", "ap-profile", "config-ap-profile"),
    _op("global", r"^ap [0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$", "ap-tag", "config-ap-tag"),
    _op("global", r"^key chain \S+$", "keychain", "config-keychain"),
    _op("keychain", r"^key \d+$", "keychain-key", "config-keychain-key"),
    _op("global", r"^spanning-tree mst configuration$", "mst", "config-mst"),
    _op("global", r"^crypto pki trustpoint \S+$", "trustpoint", "ca-trustpoint"),
    _op("global", r"^archive$", "archive", "config-archive"),
    _op("global", r"^ip dhcp pool \S+$", "dhcp", "dhcp-config"),
    _op("global", r"^parameter-map type \S+ \S+$", "param-map", "config-params-parameter-map"),
    _op("global", r"^ip sla \d+$", "ip-sla", "config-ip-sla"),
    _op("global", r"^track \d+ .+$", "track", "config-track"),
    # `monitoring` under it; a legacy switch being migrated meets it as a new line
    _op("global", r"^transceiver type all$", "xcvr", "config-xcvr-type"),
)

ACL_KINDS = frozenset({"std-nacl", "ext-nacl"})
# the address-family sections print (and accept) an explicit exit line
SECTION_EXIT = {"router-af": "exit-address-family", "vrf-af": "exit-address-family",
                "router-tmpl": "exit-peer-policy"}


@dataclass(frozen=True)
class Single:
    """A command with one value per mode (``kinds``); ``key`` matches its positive form.

    The key is the regex groups when the pattern has any (``username (\\S+)`` is one
    value per user), otherwise the whole match. ``neg`` is the line IOS shows after
    ``no <cmd>`` (None: nothing is shown); ``pos_shown`` False means the positive form
    is the default and is not shown either.
    """

    kinds: frozenset[str]
    key: re.Pattern[str]
    neg: str | None = None
    pos_shown: bool = True


def _s(kinds: str, key: str, neg: str | None = None, pos_shown: bool = True) -> Single:
    return Single(frozenset(kinds.split()), re.compile(key), neg, pos_shown)


_W = r"(?= |$)"
SINGLE: tuple[Single, ...] = (
    # global
    _s("global", r"^hostname" + _W),
    _s("global", r"^enable (secret|password)" + _W),
    _s("global", r"^username (\S+)" + _W),
    _s("global", r"^snmp-server (location|contact|trap-source|chassis-id)" + _W),
    _s("global", r"^snmp-server source-interface (informs|traps)" + _W),
    _s("global", r"^snmp-server community (\S+)" + _W),
    _s("global", r"^snmp-server view (\S+ \S+)" + _W),
    _s("global", r"^snmp-server group (\S+ v\S+ \S+)" + _W),
    _s("global", r"^ip domain[ -]name" + _W),
    _s("global", r"^ip domain lookup" + _W, neg="no ip domain lookup", pos_shown=False),
    _s("global", r"^ip http (server|secure-server)$", neg="no ip http {0}"),
    _s("global", r"^ip dhcp snooping information option$",
       neg="no ip dhcp snooping information option", pos_shown=False),
    _s("global", r"^ip dhcp snooping vlan" + _W),
    _s("global", r"^ip arp inspection vlan" + _W),
    _s("global", r"^clock (timezone|summer-time)" + _W),
    _s("global", r"^spanning-tree mode" + _W),
    _s("global", r"^spanning-tree vlan (\S+) priority" + _W),
    _s("global", r"^ip default-gateway" + _W),
    _s("global", r"^logging (source-interface|buffered|trap)" + _W),
    _s("global", r"^logging console" + _W, neg="no logging console"),
    _s("global", r"^ntp source" + _W),
    _s("global", r"^ip ssh (version|source-interface|time-out|authentication-retries)" + _W),
    _s("global", r"^ip (tacacs|radius) source-interface" + _W),
    _s("global", r"^radius-server (deadtime|dead-criteria)" + _W),
    _s("global", r"^login (block-for|on-failure|on-success)" + _W),
    _s("global", r"^service timestamps (debug|log)" + _W),
    _s("global", r"^errdisable recovery interval" + _W),
    _s("global", r"^aaa authentication (login|enable|dot1x|ppp) (\S+)" + _W),
    _s("global", r"^aaa authorization (exec|network|auth-proxy|commands \d+) (\S+)" + _W),
    _s("global", r"^aaa accounting (exec|identity|network|connection|system|commands \d+)"
       r" (\S+)" + _W),
    _s("global", r"^banner (motd|login|exec)" + _W),
    _s("global", r"^vtp (mode|domain)" + _W),
    _s("global", r"^wireless management interface" + _W),
    _s("global", r"^redun-management interface" + _W),
    _s("global", r"^cdp run$", neg="no cdp run", pos_shown=False),
    # interface
    _s("if", r"^description" + _W),
    _s("if", r"^ip address(?!.* secondary$)" + _W, neg="no ip address"),
    _s("if", r"^switchport mode" + _W),
    _s("if", r"^switchport access vlan" + _W),
    _s("if", r"^switchport voice vlan" + _W),
    _s("if", r"^switchport trunk (native|allowed) vlan" + _W),
    _s("if", r"^switchport$", neg="no switchport", pos_shown=False),
    _s("if", r"^shutdown$"),
    _s("if", r"^ip redirects$", neg="no ip redirects", pos_shown=False),
    _s("if", r"^ip proxy-arp$", neg="no ip proxy-arp", pos_shown=False),
    _s("if", r"^ip unreachables$", neg="no ip unreachables", pos_shown=False),
    _s("if", r"^cdp enable$", neg="no cdp enable", pos_shown=False),
    _s("if", r"^vrf forwarding" + _W),
    _s("if", r"^ip vrf forwarding" + _W),
    _s("if", r"^ip access-group \S+ (in|out)$"),
    _s("if", r"^ip (mtu|tcp adjust-mss)" + _W),
    _s("if", r"^power inline" + _W),
    _s("if", r"^spanning-tree portfast" + _W),
    _s("if", r"^spanning-tree (bpduguard|guard)" + _W),
    _s("if", r"^storm-control (broadcast|multicast|unicast) level" + _W),
    _s("if", r"^standby (\d+) (priority|version|authentication)" + _W),
    _s("if", r"^standby version" + _W),
    _s("if", r"^standby (\d+) ip(?!.* secondary$)" + _W),
    _s("if", r"^(authentication|access-session) (host-mode|port-control|periodic)" + _W),
    _s("if", r"^authentication event server dead action authorize vlan" + _W),
    _s("if", r"^dot1x (pae|timeout tx-period|max-reauth-req)" + _W),
    _s("if", r"^service-policy type control subscriber" + _W),
    _s("if", r"^service-policy (input|output)" + _W),
    _s("if", r"^tunnel (source|destination|key|mode)" + _W),
    _s("if", r"^speed" + _W),
    _s("if", r"^duplex" + _W),
    _s("if", r"^mtu" + _W),
    # vlan, vrf, routing
    _s("vlan", r"^name" + _W),
    _s("vrf", r"^(rd|description)" + _W),
    _s("router", r"^bgp router-id" + _W),
    _s("router", r"^router-id" + _W),
    # AAA servers
    _s("radius tacacs", r"^(address ipv4|key|timeout|retransmit|automate-tester)" + _W),
    _s("sg", r"^ip (vrf forwarding|radius source-interface|tacacs source-interface)" + _W),
    _s("locsvr", r"^client (\S+)" + _W),
    # lines
    _s("line", r"^(exec-timeout|stopbits|length|login authentication|transport input)" + _W),
    _s("line", r"^transport output" + _W),
    _s("line", r"^access-class \S+ (in|out)" + _W),
    _s("line", r"^password" + _W),
    _s("red", r"^mode" + _W),
    _s("cp", r"^service-policy (input|output)" + _W),
    # C9800
    _s("wlan", r"^security wpa psk set-key" + _W),
    _s("wlan", r"^security dot1x authentication-list" + _W),
    _s("wlan", r"^security pmf" + _W),
    _s("wlan", r"^security wpa akm dot1x$", neg="no security wpa akm dot1x", pos_shown=False),
    _s("wlan", r"^security wpa wpa2$", neg="no security wpa wpa2", pos_shown=False),
    _s("wlan wpolicy", r"^shutdown$", neg="no shutdown", pos_shown=False),
    _s("wpolicy", r"^(vlan|accounting-list|description)" + _W),
    _s("wpolicy", r"^central (dhcp|switching|authentication|association)$",
       neg="no central {0}", pos_shown=False),
    _s("site-tag", r"^(ap-profile|flex-profile|description)" + _W),
    _s("site-tag", r"^local-site$", neg="no local-site", pos_shown=False),
    _s("policy-tag", r"^wlan (\S+) policy" + _W),
    _s("rf-tag", r"^(24ghz-rf-policy|5ghz-rf-policy|6ghz-rf-policy)" + _W),
    _s("ap-tag", r"^(policy-tag|rf-tag|site-tag)" + _W),
    _s("ap-profile", r"^(mgmtuser|ntp ip|syslog host)" + _W),
    _s("wflex", r"^native-vlan-id" + _W),
    _s("wflex-vlan", r"^vlan-id" + _W),
)

# Commands known per mode, in config-file form; a device also learns its own config.
BASE_VOCABULARY = """\
version 17.12
service timestamps debug datetime msec
service password-encryption
service sequence-numbers
hostname x
boot system flash:x
enable secret 9 x
enable password 7 x
username x privilege 15 secret 9 x
aaa new-model
aaa authentication login default local
aaa authorization exec default local
aaa accounting exec default start-stop group x
aaa session-id common
clock timezone CET 1 0
clock summer-time CEST recurring
ip routing
ip name-server 1.1.1.1
ip domain name x
ip domain lookup
ip domain-name x
ip default-gateway 1.1.1.1
ip route 0.0.0.0 0.0.0.0 1.1.1.1
ip forward-protocol nd
ip http server
ip http secure-server
ip http authentication local
ip ssh version 2
ip ssh source-interface x
ip ssh time-out 60
ip tftp source-interface x
ip dhcp snooping
ip dhcp snooping vlan 1
ip dhcp snooping information option
ip arp inspection vlan 1
ip prefix-list x seq 5 permit 0.0.0.0/0
ip tacacs source-interface x
ip radius source-interface x
ip scp server enable
login block-for 1 attempts 1 within 1
login on-success log
spanning-tree mode rapid-pvst
spanning-tree extend system-id
spanning-tree vlan 1 priority 1
spanning-tree portfast default
spanning-tree portfast bpduguard default
vtp mode transparent
errdisable recovery interval 300
errdisable recovery cause bpduguard
logging buffered 64000
logging console
logging host 1.1.1.1
logging trap informational
logging source-interface x
ntp server 1.1.1.1
ntp source x
snmp-server community x RO
snmp-server location x
snmp-server contact x
snmp-server host 1.1.1.1 x
snmp-server enable traps
snmp-server user x x v3
cdp run
lldp run
radius-server deadtime 5
tacacs-server host 1.1.1.1
alias exec x x
archive
 path flash:x
 write-memory
dot1x system-auth-control
device-tracking policy x
mac address-table aging-time 300
monitor session 1 source interface x
crypto key generate rsa
file prompt quiet
redun-management interface x
management gateway-failover enable
wireless country NO
wireless management interface x
interface x
 description x
 switchport
 switchport mode access
 switchport access vlan 1
 switchport voice vlan 1
 switchport trunk native vlan 1
 switchport trunk allowed vlan 1
 switchport nonegotiate
 switchport port-security
 ip address 1.1.1.1 1.1.1.1
 ip helper-address 1.1.1.1
 ip access-group x in
 ip redirects
 ip proxy-arp
 ip unreachables
 ip mtu 1
 ip tcp adjust-mss 1
 ip dhcp snooping trust
 ip dhcp snooping limit rate 15
 ip arp inspection trust
 ip vrf forwarding x
 ipv6 nd raguard attach-policy x
 vrf forwarding x
 shutdown
 speed auto
 duplex auto
 mtu 1
 cdp enable
 lldp transmit
 load-interval 30
 power inline auto
 channel-group 1 mode active
 spanning-tree portfast
 spanning-tree bpduguard enable
 spanning-tree guard root
 storm-control broadcast level 1
 storm-control action trap
 standby version 2
 standby 1 ip 1.1.1.1
 standby 1 priority 1
 standby 1 preempt
 authentication host-mode multi-auth
 authentication port-control auto
 access-session host-mode multi-auth
 access-session port-control auto
 access-session closed
 mab
 dot1x pae authenticator
 dot1x timeout tx-period 7
 service-policy type control subscriber x
 service-policy input x
 source template x
 tunnel source x
 tunnel destination 1.1.1.1
 tunnel key 1
 tunnel mode gre ip
 logging event link-status
 negotiation auto
vlan 1
 name x
ip access-list standard x
 1 permit 1.1.1.1
 1 deny any
 1 remark x
 permit any
 deny any
 remark x
ip access-list extended x
 1 permit ip any any
 1 deny ip any any
 1 remark x
 permit ip any any
 deny ip any any
 remark x
line vty 0 4
 access-class x in
 exec-timeout 1 0
 transport input ssh
 transport output none
 login local
 login authentication x
 logging synchronous
 password 7 x
 length 0
 stopbits 1
router bgp 1
 bgp router-id 1.1.1.1
 bgp log-neighbor-changes
 neighbor 1.1.1.1 remote-as 1
 network 1.1.1.1 mask 1.1.1.1
 redistribute connected
 address-family ipv4 vrf x
  redistribute connected
  redistribute static route-map x
  neighbor 1.1.1.1 activate
router ospf 1
 router-id 1.1.1.1
 network 1.1.1.1 1.1.1.1 area 0
 passive-interface default
vrf definition x
 rd 1:1
 description x
 address-family ipv4
radius server x
 address ipv4 1.1.1.1 auth-port 1812 acct-port 1813
 key 7 x
 timeout 5
 retransmit 3
 automate-tester username x
tacacs server x
 address ipv4 1.1.1.1
 key 7 x
 timeout 5
aaa group server radius x
 server name x
 ip vrf forwarding x
 ip radius source-interface x
aaa server radius dynamic-author
 client 1.1.1.1 server-key 7 x
redundancy
 mode sso
control-plane
 service-policy input x
route-map x permit 1
 match ip address prefix-list x
 set local-preference 1
class-map match-any x
 match access-group name x
policy-map x
 class x
  police 1
ipv6 nd raguard policy x
 device-role host
wireless profile flex x
 native-vlan-id 1
 vlan-name x
  vlan-id 1
wireless profile policy x
 description x
 aaa-override
 accounting-list x
 central dhcp
 central switching
 vlan 1
 shutdown
wireless tag site x
 description x
 ap-profile x
 flex-profile x
 local-site
wireless tag policy x
 wlan x policy x
wireless tag rf x
 24ghz-rf-policy x
 5ghz-rf-policy x
wlan x 1 x
 security wpa akm dot1x
 security wpa psk set-key ascii 8 x
 security dot1x authentication-list x
 security pmf optional
 security wpa wpa2
 security wpa wpa3
 shutdown
ap profile x
 mgmtuser username x password 8 x secret 8 x
 ntp ip 1.1.1.1
 ssh
 syslog host 1.1.1.1
key chain x
 key 1
  key-string 7 x
ip dhcp pool x
 network 1.1.1.1 1.1.1.1
 default-router 1.1.1.1
"""
