package decode

// xent is one named value of a flag set or an enumeration.
type xent struct {
	v    uint64
	name string
}

// xlat is a table of named values, in strace's printing order (for flag sets the order
// decides which name a combined value such as O_TMPFILE takes before its parts).
type xlat struct {
	prefix string // "O_", for the comment on unknown values: "/* O_??? */"
	ents   []xent
}

// lookup returns the name of the value v in an enumeration.
func (x *xlat) lookup(v uint64) (string, bool) {
	for _, e := range x.ents {
		if e.v == v {
			return e.name, true
		}
	}
	return "", false
}

// unknown writes v in hex with strace's comment for an unknown value: "0x7 /* SEEK_??? */".
func (x *xlat) unknown(b *wbuf, v uint64) {
	writeHex(b, v)
	if v != 0 && x.prefix != "" {
		b.WriteString(" /* ")
		b.WriteString(x.prefix)
		b.WriteString("??? */")
	}
}

// enum writes the name of v, or v in hex with a comment.
func (x *xlat) enum(b *wbuf, v uint64) {
	if n, ok := x.lookup(v); ok {
		b.WriteString(n)
		return
	}
	x.unknown(b, v)
}

// flags writes v as names joined by '|', leftover bits as "|0x..". A zero value prints
// the table's zero name if it has one, else "0". A value none of whose bits has a name
// prints as hex with a comment, as strace does.
func (x *xlat) flags(b *wbuf, v uint64) {
	if v == 0 {
		if n, ok := x.lookup(0); ok {
			b.WriteString(n)
		} else {
			b.WriteByte('0')
		}
		return
	}
	n := 0
	for _, e := range x.ents {
		if e.v != 0 && v&e.v == e.v {
			if n > 0 {
				b.WriteByte('|')
			}
			b.WriteString(e.name)
			v &^= e.v
			n++
		}
	}
	switch {
	case n == 0:
		x.unknown(b, v)
	case v != 0:
		b.WriteByte('|')
		writeHex(b, v)
	}
}

// flagsAfter is flags for a value combined with a leading part already written: it
// writes "|names" and nothing for zero.
func (x *xlat) flagsAfter(b *wbuf, v uint64) {
	if v == 0 {
		return
	}
	b.WriteByte('|')
	for _, e := range x.ents {
		if e.v != 0 && v&e.v == e.v {
			b.WriteString(e.name)
			v &^= e.v
			if v == 0 {
				return
			}
			b.WriteByte('|')
		}
	}
	writeHex(b, v)
}

func x(prefix string, ents ...xent) *xlat { return &xlat{prefix: prefix, ents: ents} }

// Flag sets and enumerations, with x86-64 values. TestTablesMatchCHeaders checks the
// values against the installed kernel and libc headers.
var (
	xOpenAccess = x("O_", xent{0, "O_RDONLY"}, xent{1, "O_WRONLY"}, xent{2, "O_RDWR"}, xent{3, "O_ACCMODE"})
	xOpenFlags  = x("O_",
		xent{0x40, "O_CREAT"}, xent{0x80, "O_EXCL"}, xent{0x100, "O_NOCTTY"}, xent{0x200, "O_TRUNC"},
		xent{0x400, "O_APPEND"}, xent{0x800, "O_NONBLOCK"}, xent{0x101000, "O_SYNC"}, xent{0x100000, "__O_SYNC"},
		xent{0x1000, "O_DSYNC"}, xent{0x4000, "O_DIRECT"}, xent{0x8000, "O_LARGEFILE"}, xent{0x20000, "O_NOFOLLOW"},
		xent{0x40000, "O_NOATIME"}, xent{0x80000, "O_CLOEXEC"}, xent{0x200000, "O_PATH"},
		xent{0x410000, "O_TMPFILE"}, xent{0x400000, "__O_TMPFILE"}, xent{0x10000, "O_DIRECTORY"}, xent{0x2000, "FASYNC"})

	xAtFlags = x("AT_",
		xent{0x100, "AT_SYMLINK_NOFOLLOW"}, xent{0x200, "AT_REMOVEDIR"}, xent{0x400, "AT_SYMLINK_FOLLOW"},
		xent{0x800, "AT_NO_AUTOMOUNT"}, xent{0x1000, "AT_EMPTY_PATH"}, xent{0x8000, "AT_RECURSIVE"})
	xFaccessatFlags = x("AT_",
		xent{0x100, "AT_SYMLINK_NOFOLLOW"}, xent{0x200, "AT_EACCESS"}, xent{0x1000, "AT_EMPTY_PATH"})
	xStatxSync = x("AT_STATX_", xent{0, "AT_STATX_SYNC_AS_STAT"}, xent{0x2000, "AT_STATX_FORCE_SYNC"},
		xent{0x4000, "AT_STATX_DONT_SYNC"})
	xStatxMask = x("STATX_",
		xent{0xfff, "STATX_ALL"}, xent{0x7ff, "STATX_BASIC_STATS"}, xent{0x1, "STATX_TYPE"}, xent{0x2, "STATX_MODE"},
		xent{0x4, "STATX_NLINK"}, xent{0x8, "STATX_UID"}, xent{0x10, "STATX_GID"}, xent{0x20, "STATX_ATIME"},
		xent{0x40, "STATX_MTIME"}, xent{0x80, "STATX_CTIME"}, xent{0x100, "STATX_INO"}, xent{0x200, "STATX_SIZE"},
		xent{0x400, "STATX_BLOCKS"}, xent{0x800, "STATX_BTIME"}, xent{0x1000, "STATX_MNT_ID"},
		xent{0x2000, "STATX_DIOALIGN"}, xent{0x4000, "STATX_MNT_ID_UNIQUE"}, xent{0x8000, "STATX_SUBVOL"},
		xent{0x10000, "STATX_WRITE_ATOMIC"}, xent{0x20000, "STATX_DIO_READ_ALIGN"})
	xStatxAttrs = x("STATX_ATTR_",
		xent{0x4, "STATX_ATTR_COMPRESSED"}, xent{0x10, "STATX_ATTR_IMMUTABLE"}, xent{0x20, "STATX_ATTR_APPEND"},
		xent{0x40, "STATX_ATTR_NODUMP"}, xent{0x800, "STATX_ATTR_ENCRYPTED"}, xent{0x1000, "STATX_ATTR_AUTOMOUNT"},
		xent{0x2000, "STATX_ATTR_MOUNT_ROOT"}, xent{0x100000, "STATX_ATTR_VERITY"}, xent{0x200000, "STATX_ATTR_DAX"},
		xent{0x400000, "STATX_ATTR_WRITE_ATOMIC"})
	xAccessMode = x("", xent{0, "F_OK"}, xent{4, "R_OK"}, xent{2, "W_OK"}, xent{1, "X_OK"})
	xFileType   = x("S_IF", xent{0o140000, "S_IFSOCK"}, xent{0o120000, "S_IFLNK"}, xent{0o100000, "S_IFREG"},
		xent{0o60000, "S_IFBLK"}, xent{0o40000, "S_IFDIR"}, xent{0o20000, "S_IFCHR"}, xent{0o10000, "S_IFIFO"})
	xWhence = x("SEEK_", xent{0, "SEEK_SET"}, xent{1, "SEEK_CUR"}, xent{2, "SEEK_END"}, xent{3, "SEEK_DATA"},
		xent{4, "SEEK_HOLE"})

	xProt = x("PROT_", xent{0, "PROT_NONE"}, xent{1, "PROT_READ"}, xent{2, "PROT_WRITE"}, xent{4, "PROT_EXEC"},
		xent{8, "PROT_SEM"}, xent{0x01000000, "PROT_GROWSDOWN"}, xent{0x02000000, "PROT_GROWSUP"})
	xMapType = x("MAP_", xent{1, "MAP_SHARED"}, xent{2, "MAP_PRIVATE"}, xent{3, "MAP_SHARED_VALIDATE"},
		xent{8, "MAP_DROPPABLE"})
	xMapFlags = x("MAP_",
		xent{0x10, "MAP_FIXED"}, xent{0x20, "MAP_ANONYMOUS"}, xent{0x40, "MAP_32BIT"}, xent{0x80, "MAP_ABOVE4G"},
		xent{0x4000, "MAP_NORESERVE"}, xent{0x8000, "MAP_POPULATE"}, xent{0x10000, "MAP_NONBLOCK"},
		xent{0x100, "MAP_GROWSDOWN"}, xent{0x800, "MAP_DENYWRITE"}, xent{0x1000, "MAP_EXECUTABLE"},
		xent{0x2000, "MAP_LOCKED"}, xent{0x20000, "MAP_STACK"}, xent{0x40000, "MAP_HUGETLB"}, xent{0x80000, "MAP_SYNC"},
		xent{0x4000000, "MAP_UNINITIALIZED"}, xent{0x100000, "MAP_FIXED_NOREPLACE"})
	xMremap   = x("MREMAP_", xent{1, "MREMAP_MAYMOVE"}, xent{2, "MREMAP_FIXED"}, xent{4, "MREMAP_DONTUNMAP"})
	xMsync    = x("MS_", xent{1, "MS_ASYNC"}, xent{4, "MS_SYNC"}, xent{2, "MS_INVALIDATE"})
	xMlockall = x("MCL_", xent{1, "MCL_CURRENT"}, xent{2, "MCL_FUTURE"}, xent{4, "MCL_ONFAULT"})
	xMlock2   = x("MLOCK_", xent{1, "MLOCK_ONFAULT"})
	xMadvise  = x("MADV_",
		xent{0, "MADV_NORMAL"}, xent{1, "MADV_RANDOM"}, xent{2, "MADV_SEQUENTIAL"}, xent{3, "MADV_WILLNEED"},
		xent{4, "MADV_DONTNEED"}, xent{8, "MADV_FREE"}, xent{9, "MADV_REMOVE"}, xent{10, "MADV_DONTFORK"},
		xent{11, "MADV_DOFORK"}, xent{12, "MADV_MERGEABLE"}, xent{13, "MADV_UNMERGEABLE"}, xent{14, "MADV_HUGEPAGE"},
		xent{15, "MADV_NOHUGEPAGE"}, xent{16, "MADV_DONTDUMP"}, xent{17, "MADV_DODUMP"}, xent{18, "MADV_WIPEONFORK"},
		xent{19, "MADV_KEEPONFORK"}, xent{20, "MADV_COLD"}, xent{21, "MADV_PAGEOUT"}, xent{22, "MADV_POPULATE_READ"},
		xent{23, "MADV_POPULATE_WRITE"}, xent{24, "MADV_DONTNEED_LOCKED"}, xent{25, "MADV_COLLAPSE"},
		xent{100, "MADV_HWPOISON"}, xent{101, "MADV_SOFT_OFFLINE"}, xent{102, "MADV_GUARD_INSTALL"},
		xent{103, "MADV_GUARD_REMOVE"})

	xClone = x("CLONE_",
		xent{0x100, "CLONE_VM"}, xent{0x200, "CLONE_FS"}, xent{0x400, "CLONE_FILES"}, xent{0x800, "CLONE_SIGHAND"},
		xent{0x1000, "CLONE_PIDFD"}, xent{0x2000, "CLONE_PTRACE"}, xent{0x4000, "CLONE_VFORK"},
		xent{0x8000, "CLONE_PARENT"}, xent{0x10000, "CLONE_THREAD"}, xent{0x20000, "CLONE_NEWNS"},
		xent{0x40000, "CLONE_SYSVSEM"}, xent{0x80000, "CLONE_SETTLS"}, xent{0x100000, "CLONE_PARENT_SETTID"},
		xent{0x200000, "CLONE_CHILD_CLEARTID"}, xent{0x800000, "CLONE_UNTRACED"}, xent{0x1000000, "CLONE_CHILD_SETTID"},
		xent{0x2000000, "CLONE_NEWCGROUP"}, xent{0x4000000, "CLONE_NEWUTS"}, xent{0x8000000, "CLONE_NEWIPC"},
		xent{0x10000000, "CLONE_NEWUSER"}, xent{0x20000000, "CLONE_NEWPID"}, xent{0x40000000, "CLONE_NEWNET"},
		xent{0x80000000, "CLONE_IO"}, xent{0x80, "CLONE_NEWTIME"}, xent{0x100000000, "CLONE_CLEAR_SIGHAND"},
		xent{0x200000000, "CLONE_INTO_CGROUP"})

	xSigHow  = x("SIG_", xent{0, "SIG_BLOCK"}, xent{1, "SIG_UNBLOCK"}, xent{2, "SIG_SETMASK"})
	xSaFlags = x("SA_",
		xent{0x04000000, "SA_RESTORER"}, xent{0x08000000, "SA_ONSTACK"}, xent{0x10000000, "SA_RESTART"},
		xent{0x40000000, "SA_NODEFER"}, xent{0x80000000, "SA_RESETHAND"}, xent{4, "SA_SIGINFO"},
		xent{1, "SA_NOCLDSTOP"}, xent{2, "SA_NOCLDWAIT"}, xent{0x400, "SA_UNSUPPORTED"},
		xent{0x800, "SA_EXPOSE_TAGBITS"})
	xSsFlags = x("SS_", xent{1, "SS_ONSTACK"}, xent{2, "SS_DISABLE"}, xent{0x80000000, "SS_AUTODISARM"})

	xFutexCmd = x("FUTEX_",
		xent{0, "FUTEX_WAIT"}, xent{1, "FUTEX_WAKE"}, xent{2, "FUTEX_FD"}, xent{3, "FUTEX_REQUEUE"},
		xent{4, "FUTEX_CMP_REQUEUE"}, xent{5, "FUTEX_WAKE_OP"}, xent{6, "FUTEX_LOCK_PI"}, xent{7, "FUTEX_UNLOCK_PI"},
		xent{8, "FUTEX_TRYLOCK_PI"}, xent{9, "FUTEX_WAIT_BITSET"}, xent{10, "FUTEX_WAKE_BITSET"},
		xent{11, "FUTEX_WAIT_REQUEUE_PI"}, xent{12, "FUTEX_CMP_REQUEUE_PI"}, xent{13, "FUTEX_LOCK_PI2"})

	xAddrFamily = x("AF_",
		xent{0, "AF_UNSPEC"}, xent{1, "AF_UNIX"}, xent{2, "AF_INET"}, xent{3, "AF_AX25"}, xent{4, "AF_IPX"},
		xent{5, "AF_APPLETALK"}, xent{6, "AF_NETROM"}, xent{7, "AF_BRIDGE"}, xent{8, "AF_ATMPVC"}, xent{9, "AF_X25"},
		xent{10, "AF_INET6"}, xent{11, "AF_ROSE"}, xent{12, "AF_DECnet"}, xent{13, "AF_NETBEUI"},
		xent{14, "AF_SECURITY"}, xent{15, "AF_KEY"}, xent{16, "AF_NETLINK"}, xent{17, "AF_PACKET"}, xent{18, "AF_ASH"},
		xent{19, "AF_ECONET"}, xent{20, "AF_ATMSVC"}, xent{21, "AF_RDS"}, xent{22, "AF_SNA"}, xent{23, "AF_IRDA"},
		xent{24, "AF_PPPOX"}, xent{25, "AF_WANPIPE"}, xent{26, "AF_LLC"}, xent{27, "AF_IB"}, xent{28, "AF_MPLS"},
		xent{29, "AF_CAN"}, xent{30, "AF_TIPC"}, xent{31, "AF_BLUETOOTH"}, xent{32, "AF_IUCV"}, xent{33, "AF_RXRPC"},
		xent{34, "AF_ISDN"}, xent{35, "AF_PHONET"}, xent{36, "AF_IEEE802154"}, xent{37, "AF_CAIF"}, xent{38, "AF_ALG"},
		xent{39, "AF_NFC"}, xent{40, "AF_VSOCK"}, xent{41, "AF_KCM"}, xent{42, "AF_QIPCRTR"}, xent{43, "AF_SMC"},
		xent{44, "AF_XDP"}, xent{45, "AF_MCTP"})
	xSockType = x("SOCK_", xent{1, "SOCK_STREAM"}, xent{2, "SOCK_DGRAM"}, xent{3, "SOCK_RAW"}, xent{4, "SOCK_RDM"},
		xent{5, "SOCK_SEQPACKET"}, xent{6, "SOCK_DCCP"}, xent{10, "SOCK_PACKET"})
	xSockFlags = x("SOCK_", xent{0x80000, "SOCK_CLOEXEC"}, xent{0x800, "SOCK_NONBLOCK"})
	xIPProto   = x("IPPROTO_",
		xent{0, "IPPROTO_IP"}, xent{1, "IPPROTO_ICMP"}, xent{2, "IPPROTO_IGMP"}, xent{4, "IPPROTO_IPIP"},
		xent{6, "IPPROTO_TCP"}, xent{8, "IPPROTO_EGP"}, xent{12, "IPPROTO_PUP"}, xent{17, "IPPROTO_UDP"},
		xent{22, "IPPROTO_IDP"}, xent{29, "IPPROTO_TP"}, xent{33, "IPPROTO_DCCP"}, xent{41, "IPPROTO_IPV6"},
		xent{46, "IPPROTO_RSVP"}, xent{47, "IPPROTO_GRE"}, xent{50, "IPPROTO_ESP"}, xent{51, "IPPROTO_AH"},
		xent{58, "IPPROTO_ICMPV6"}, xent{92, "IPPROTO_MTP"}, xent{94, "IPPROTO_BEETPH"}, xent{98, "IPPROTO_ENCAP"},
		xent{103, "IPPROTO_PIM"}, xent{108, "IPPROTO_COMP"}, xent{115, "IPPROTO_L2TP"}, xent{132, "IPPROTO_SCTP"},
		xent{136, "IPPROTO_UDPLITE"}, xent{137, "IPPROTO_MPLS"}, xent{143, "IPPROTO_ETHERNET"},
		xent{255, "IPPROTO_RAW"}, xent{262, "IPPROTO_MPTCP"})
	xNetlinkProto = x("NETLINK_",
		xent{0, "NETLINK_ROUTE"}, xent{1, "NETLINK_UNUSED"}, xent{2, "NETLINK_USERSOCK"}, xent{3, "NETLINK_FIREWALL"},
		xent{4, "NETLINK_SOCK_DIAG"}, xent{5, "NETLINK_NFLOG"}, xent{6, "NETLINK_XFRM"}, xent{7, "NETLINK_SELINUX"},
		xent{8, "NETLINK_ISCSI"}, xent{9, "NETLINK_AUDIT"}, xent{10, "NETLINK_FIB_LOOKUP"},
		xent{11, "NETLINK_CONNECTOR"}, xent{12, "NETLINK_NETFILTER"}, xent{13, "NETLINK_IP6_FW"},
		xent{14, "NETLINK_DNRTMSG"}, xent{15, "NETLINK_KOBJECT_UEVENT"}, xent{16, "NETLINK_GENERIC"},
		xent{18, "NETLINK_SCSITRANSPORT"}, xent{19, "NETLINK_ECRYPTFS"}, xent{20, "NETLINK_RDMA"},
		xent{21, "NETLINK_CRYPTO"}, xent{22, "NETLINK_SMC"})
	xMsgFlags = x("MSG_",
		xent{0x1, "MSG_OOB"}, xent{0x2, "MSG_PEEK"}, xent{0x4, "MSG_DONTROUTE"}, xent{0x8, "MSG_CTRUNC"},
		xent{0x10, "MSG_PROBE"}, xent{0x20, "MSG_TRUNC"}, xent{0x40, "MSG_DONTWAIT"}, xent{0x80, "MSG_EOR"},
		xent{0x100, "MSG_WAITALL"}, xent{0x200, "MSG_FIN"}, xent{0x400, "MSG_SYN"}, xent{0x800, "MSG_CONFIRM"},
		xent{0x1000, "MSG_RST"}, xent{0x2000, "MSG_ERRQUEUE"}, xent{0x4000, "MSG_NOSIGNAL"}, xent{0x8000, "MSG_MORE"},
		xent{0x10000, "MSG_WAITFORONE"}, xent{0x20000, "MSG_SENDPAGE_NOTLAST"}, xent{0x40000, "MSG_BATCH"},
		xent{0x80000, "MSG_NO_SHARED_FRAGS"}, xent{0x2000000, "MSG_SOCK_DEVMEM"}, xent{0x4000000, "MSG_ZEROCOPY"},
		xent{0x20000000, "MSG_FASTOPEN"}, xent{0x40000000, "MSG_CMSG_CLOEXEC"})
	xShutdown  = x("SHUT_", xent{0, "SHUT_RD"}, xent{1, "SHUT_WR"}, xent{2, "SHUT_RDWR"})
	xSockLevel = x("SOL_",
		xent{0, "SOL_IP"}, xent{1, "SOL_SOCKET"}, xent{6, "SOL_TCP"}, xent{17, "SOL_UDP"}, xent{41, "SOL_IPV6"},
		xent{58, "SOL_ICMPV6"}, xent{132, "SOL_SCTP"}, xent{136, "SOL_UDPLITE"}, xent{255, "SOL_RAW"},
		xent{263, "SOL_PACKET"}, xent{270, "SOL_NETLINK"}, xent{274, "SOL_BLUETOOTH"}, xent{279, "SOL_ALG"},
		xent{282, "SOL_TLS"}, xent{283, "SOL_XDP"}, xent{284, "SOL_MPTCP"})
	xSockOptSocket = x("SO_",
		xent{1, "SO_DEBUG"}, xent{2, "SO_REUSEADDR"}, xent{3, "SO_TYPE"}, xent{4, "SO_ERROR"},
		xent{5, "SO_DONTROUTE"}, xent{6, "SO_BROADCAST"}, xent{7, "SO_SNDBUF"}, xent{8, "SO_RCVBUF"},
		xent{9, "SO_KEEPALIVE"}, xent{10, "SO_OOBINLINE"}, xent{11, "SO_NO_CHECK"}, xent{12, "SO_PRIORITY"},
		xent{13, "SO_LINGER"}, xent{14, "SO_BSDCOMPAT"}, xent{15, "SO_REUSEPORT"}, xent{16, "SO_PASSCRED"},
		xent{17, "SO_PEERCRED"}, xent{18, "SO_RCVLOWAT"}, xent{19, "SO_SNDLOWAT"}, xent{20, "SO_RCVTIMEO_OLD"},
		xent{21, "SO_SNDTIMEO_OLD"}, xent{22, "SO_SECURITY_AUTHENTICATION"},
		xent{23, "SO_SECURITY_ENCRYPTION_TRANSPORT"}, xent{24, "SO_SECURITY_ENCRYPTION_NETWORK"},
		xent{25, "SO_BINDTODEVICE"}, xent{26, "SO_ATTACH_FILTER"}, xent{27, "SO_DETACH_FILTER"},
		xent{28, "SO_PEERNAME"}, xent{29, "SO_TIMESTAMP_OLD"}, xent{30, "SO_ACCEPTCONN"}, xent{31, "SO_PEERSEC"},
		xent{32, "SO_SNDBUFFORCE"}, xent{33, "SO_RCVBUFFORCE"}, xent{34, "SO_PASSSEC"},
		xent{35, "SO_TIMESTAMPNS_OLD"}, xent{36, "SO_MARK"}, xent{37, "SO_TIMESTAMPING_OLD"},
		xent{38, "SO_PROTOCOL"}, xent{39, "SO_DOMAIN"}, xent{40, "SO_RXQ_OVFL"}, xent{41, "SO_WIFI_STATUS"},
		xent{42, "SO_PEEK_OFF"}, xent{43, "SO_NOFCS"}, xent{44, "SO_LOCK_FILTER"}, xent{45, "SO_SELECT_ERR_QUEUE"},
		xent{46, "SO_BUSY_POLL"}, xent{47, "SO_MAX_PACING_RATE"}, xent{48, "SO_BPF_EXTENSIONS"},
		xent{49, "SO_INCOMING_CPU"}, xent{50, "SO_ATTACH_BPF"}, xent{51, "SO_ATTACH_REUSEPORT_CBPF"},
		xent{52, "SO_ATTACH_REUSEPORT_EBPF"}, xent{53, "SO_CNX_ADVICE"}, xent{55, "SO_MEMINFO"},
		xent{56, "SO_INCOMING_NAPI_ID"}, xent{57, "SO_COOKIE"}, xent{59, "SO_PEERGROUPS"}, xent{60, "SO_ZEROCOPY"},
		xent{61, "SO_TXTIME"}, xent{62, "SO_BINDTOIFINDEX"}, xent{63, "SO_TIMESTAMP_NEW"},
		xent{64, "SO_TIMESTAMPNS_NEW"}, xent{65, "SO_TIMESTAMPING_NEW"}, xent{66, "SO_RCVTIMEO_NEW"},
		xent{67, "SO_SNDTIMEO_NEW"}, xent{68, "SO_DETACH_REUSEPORT_BPF"}, xent{69, "SO_PREFER_BUSY_POLL"},
		xent{70, "SO_BUSY_POLL_BUDGET"}, xent{71, "SO_NETNS_COOKIE"}, xent{72, "SO_BUF_LOCK"},
		xent{73, "SO_RESERVE_MEM"}, xent{74, "SO_TXREHASH"}, xent{75, "SO_RCVMARK"}, xent{76, "SO_PASSPIDFD"},
		xent{77, "SO_PEERPIDFD"})
	xSockOptTCP = x("TCP_",
		xent{1, "TCP_NODELAY"}, xent{2, "TCP_MAXSEG"}, xent{3, "TCP_CORK"}, xent{4, "TCP_KEEPIDLE"},
		xent{5, "TCP_KEEPINTVL"}, xent{6, "TCP_KEEPCNT"}, xent{7, "TCP_SYNCNT"}, xent{8, "TCP_LINGER2"},
		xent{9, "TCP_DEFER_ACCEPT"}, xent{10, "TCP_WINDOW_CLAMP"}, xent{11, "TCP_INFO"}, xent{12, "TCP_QUICKACK"},
		xent{13, "TCP_CONGESTION"}, xent{14, "TCP_MD5SIG"}, xent{16, "TCP_THIN_LINEAR_TIMEOUTS"},
		xent{17, "TCP_THIN_DUPACK"}, xent{18, "TCP_USER_TIMEOUT"}, xent{19, "TCP_REPAIR"},
		xent{20, "TCP_REPAIR_QUEUE"}, xent{21, "TCP_QUEUE_SEQ"}, xent{22, "TCP_REPAIR_OPTIONS"},
		xent{23, "TCP_FASTOPEN"}, xent{24, "TCP_TIMESTAMP"}, xent{25, "TCP_NOTSENT_LOWAT"},
		xent{26, "TCP_CC_INFO"}, xent{27, "TCP_SAVE_SYN"}, xent{28, "TCP_SAVED_SYN"}, xent{29, "TCP_REPAIR_WINDOW"},
		xent{30, "TCP_FASTOPEN_CONNECT"}, xent{31, "TCP_ULP"}, xent{32, "TCP_MD5SIG_EXT"},
		xent{33, "TCP_FASTOPEN_KEY"}, xent{34, "TCP_FASTOPEN_NO_COOKIE"}, xent{35, "TCP_ZEROCOPY_RECEIVE"},
		xent{36, "TCP_INQ"}, xent{37, "TCP_TX_DELAY"})
	xSockOptIP = x("IP_",
		xent{1, "IP_TOS"}, xent{2, "IP_TTL"}, xent{3, "IP_HDRINCL"}, xent{4, "IP_OPTIONS"}, xent{5, "IP_ROUTER_ALERT"},
		xent{6, "IP_RECVOPTS"}, xent{7, "IP_RETOPTS"}, xent{8, "IP_PKTINFO"}, xent{9, "IP_PKTOPTIONS"},
		xent{10, "IP_MTU_DISCOVER"}, xent{11, "IP_RECVERR"}, xent{12, "IP_RECVTTL"}, xent{13, "IP_RECVTOS"},
		xent{14, "IP_MTU"}, xent{15, "IP_FREEBIND"}, xent{16, "IP_IPSEC_POLICY"}, xent{17, "IP_XFRM_POLICY"},
		xent{18, "IP_PASSSEC"}, xent{19, "IP_TRANSPARENT"}, xent{20, "IP_ORIGDSTADDR"}, xent{21, "IP_MINTTL"},
		xent{22, "IP_NODEFRAG"}, xent{23, "IP_CHECKSUM"}, xent{24, "IP_BIND_ADDRESS_NO_PORT"},
		xent{25, "IP_RECVFRAGSIZE"}, xent{26, "IP_RECVERR_RFC4884"}, xent{32, "IP_MULTICAST_IF"},
		xent{33, "IP_MULTICAST_TTL"}, xent{34, "IP_MULTICAST_LOOP"}, xent{35, "IP_ADD_MEMBERSHIP"},
		xent{36, "IP_DROP_MEMBERSHIP"}, xent{37, "IP_UNBLOCK_SOURCE"}, xent{38, "IP_BLOCK_SOURCE"},
		xent{39, "IP_ADD_SOURCE_MEMBERSHIP"}, xent{40, "IP_DROP_SOURCE_MEMBERSHIP"}, xent{41, "IP_MSFILTER"},
		xent{49, "IP_MULTICAST_ALL"}, xent{50, "IP_UNICAST_IF"})
	xSockOptIPv6 = x("IPV6_",
		xent{1, "IPV6_ADDRFORM"}, xent{2, "IPV6_2292PKTINFO"}, xent{3, "IPV6_2292HOPOPTS"},
		xent{4, "IPV6_2292DSTOPTS"}, xent{5, "IPV6_2292RTHDR"}, xent{6, "IPV6_2292PKTOPTIONS"},
		xent{7, "IPV6_CHECKSUM"}, xent{8, "IPV6_2292HOPLIMIT"}, xent{9, "IPV6_NEXTHOP"}, xent{10, "IPV6_AUTHHDR"},
		xent{11, "IPV6_FLOWINFO"}, xent{16, "IPV6_UNICAST_HOPS"}, xent{17, "IPV6_MULTICAST_IF"},
		xent{18, "IPV6_MULTICAST_HOPS"}, xent{19, "IPV6_MULTICAST_LOOP"}, xent{20, "IPV6_ADD_MEMBERSHIP"},
		xent{21, "IPV6_DROP_MEMBERSHIP"}, xent{22, "IPV6_ROUTER_ALERT"}, xent{23, "IPV6_MTU_DISCOVER"},
		xent{24, "IPV6_MTU"}, xent{25, "IPV6_RECVERR"}, xent{26, "IPV6_V6ONLY"}, xent{27, "IPV6_JOIN_ANYCAST"},
		xent{28, "IPV6_LEAVE_ANYCAST"}, xent{29, "IPV6_MULTICAST_ALL"}, xent{30, "IPV6_ROUTER_ALERT_ISOLATE"},
		xent{31, "IPV6_RECVERR_RFC4884"}, xent{49, "IPV6_RECVPKTINFO"}, xent{50, "IPV6_PKTINFO"},
		xent{51, "IPV6_RECVHOPLIMIT"}, xent{52, "IPV6_HOPLIMIT"}, xent{60, "IPV6_RECVPATHMTU"},
		xent{61, "IPV6_PATHMTU"}, xent{62, "IPV6_DONTFRAG"}, xent{66, "IPV6_RECVTCLASS"}, xent{67, "IPV6_TCLASS"},
		xent{72, "IPV6_ADDR_PREFERENCES"}, xent{73, "IPV6_MINHOPCOUNT"}, xent{74, "IPV6_ORIGDSTADDR"},
		xent{75, "IPV6_TRANSPARENT"}, xent{76, "IPV6_UNICAST_IF"}, xent{77, "IPV6_RECVFRAGSIZE"},
		xent{78, "IPV6_FREEBIND"})

	xFcntlCmd = x("F_",
		xent{0, "F_DUPFD"}, xent{1, "F_GETFD"}, xent{2, "F_SETFD"}, xent{3, "F_GETFL"}, xent{4, "F_SETFL"},
		xent{5, "F_GETLK"}, xent{6, "F_SETLK"}, xent{7, "F_SETLKW"}, xent{8, "F_SETOWN"}, xent{9, "F_GETOWN"},
		xent{10, "F_SETSIG"}, xent{11, "F_GETSIG"}, xent{15, "F_SETOWN_EX"}, xent{16, "F_GETOWN_EX"},
		xent{17, "F_GETOWNER_UIDS"}, xent{36, "F_OFD_GETLK"}, xent{37, "F_OFD_SETLK"}, xent{38, "F_OFD_SETLKW"},
		xent{1024, "F_SETLEASE"}, xent{1025, "F_GETLEASE"}, xent{1026, "F_NOTIFY"}, xent{1027, "F_DUPFD_QUERY"},
		xent{1028, "F_CREATED_QUERY"}, xent{1029, "F_CANCELLK"}, xent{1030, "F_DUPFD_CLOEXEC"},
		xent{1031, "F_SETPIPE_SZ"}, xent{1032, "F_GETPIPE_SZ"}, xent{1033, "F_ADD_SEALS"},
		xent{1034, "F_GET_SEALS"}, xent{1035, "F_GET_RW_HINT"}, xent{1036, "F_SET_RW_HINT"},
		xent{1037, "F_GET_FILE_RW_HINT"}, xent{1038, "F_SET_FILE_RW_HINT"})
	xFdFlags  = x("FD_", xent{1, "FD_CLOEXEC"})
	xLockType = x("F_", xent{0, "F_RDLCK"}, xent{1, "F_WRLCK"}, xent{2, "F_UNLCK"})
	xSeals    = x("F_SEAL_", xent{1, "F_SEAL_SEAL"}, xent{2, "F_SEAL_SHRINK"}, xent{4, "F_SEAL_GROW"}, xent{8, "F_SEAL_WRITE"}, xent{0x10, "F_SEAL_FUTURE_WRITE"}, xent{0x20, "F_SEAL_EXEC"})
	xNotify   = x("DN_", xent{1, "DN_ACCESS"}, xent{2, "DN_MODIFY"}, xent{4, "DN_CREATE"}, xent{8, "DN_DELETE"}, xent{0x10, "DN_RENAME"}, xent{0x20, "DN_ATTRIB"}, xent{0x80000000, "DN_MULTISHOT"})
	xFlockOp  = x("LOCK_", xent{1, "LOCK_SH"}, xent{2, "LOCK_EX"}, xent{4, "LOCK_NB"}, xent{8, "LOCK_UN"})
	xPollEv   = x("POLL",
		xent{0x1, "POLLIN"}, xent{0x2, "POLLPRI"}, xent{0x4, "POLLOUT"}, xent{0x8, "POLLERR"}, xent{0x10, "POLLHUP"},
		xent{0x20, "POLLNVAL"}, xent{0x40, "POLLRDNORM"}, xent{0x80, "POLLRDBAND"}, xent{0x100, "POLLWRNORM"},
		xent{0x200, "POLLWRBAND"}, xent{0x400, "POLLMSG"}, xent{0x1000, "POLLREMOVE"}, xent{0x2000, "POLLRDHUP"})
	xEpollEv = x("EPOLL",
		xent{0x1, "EPOLLIN"}, xent{0x2, "EPOLLPRI"}, xent{0x4, "EPOLLOUT"}, xent{0x8, "EPOLLERR"},
		xent{0x10, "EPOLLHUP"}, xent{0x20, "EPOLLNVAL"}, xent{0x40, "EPOLLRDNORM"}, xent{0x80, "EPOLLRDBAND"},
		xent{0x100, "EPOLLWRNORM"}, xent{0x200, "EPOLLWRBAND"}, xent{0x400, "EPOLLMSG"}, xent{0x2000, "EPOLLRDHUP"},
		xent{0x08000000, "EPOLLURING_WAKE"}, xent{0x10000000, "EPOLLEXCLUSIVE"}, xent{0x20000000, "EPOLLWAKEUP"},
		xent{0x40000000, "EPOLLONESHOT"}, xent{0x80000000, "EPOLLET"})
	xEpollOp       = x("EPOLL_CTL_", xent{1, "EPOLL_CTL_ADD"}, xent{2, "EPOLL_CTL_DEL"}, xent{3, "EPOLL_CTL_MOD"})
	xEpollFlags    = x("EPOLL_", xent{0x80000, "EPOLL_CLOEXEC"})
	xEventfdFlags  = x("EFD_", xent{1, "EFD_SEMAPHORE"}, xent{0x80000, "EFD_CLOEXEC"}, xent{0x800, "EFD_NONBLOCK"})
	xTimerfdFlags  = x("TFD_", xent{1, "TFD_TIMER_ABSTIME"}, xent{2, "TFD_TIMER_CANCEL_ON_SET"}, xent{0x80000, "TFD_CLOEXEC"}, xent{0x800, "TFD_NONBLOCK"})
	xSignalfdFlags = x("SFD_", xent{0x80000, "SFD_CLOEXEC"}, xent{0x800, "SFD_NONBLOCK"})
	xInotifyInit   = x("IN_", xent{0x800, "IN_NONBLOCK"}, xent{0x80000, "IN_CLOEXEC"})
	xInotifyMask   = x("IN_",
		xent{0x1, "IN_ACCESS"}, xent{0x2, "IN_MODIFY"}, xent{0x4, "IN_ATTRIB"}, xent{0x8, "IN_CLOSE_WRITE"},
		xent{0x10, "IN_CLOSE_NOWRITE"}, xent{0x20, "IN_OPEN"}, xent{0x40, "IN_MOVED_FROM"}, xent{0x80, "IN_MOVED_TO"},
		xent{0x100, "IN_CREATE"}, xent{0x200, "IN_DELETE"}, xent{0x400, "IN_DELETE_SELF"}, xent{0x800, "IN_MOVE_SELF"},
		xent{0x2000, "IN_UNMOUNT"}, xent{0x4000, "IN_Q_OVERFLOW"}, xent{0x8000, "IN_IGNORED"},
		xent{0x01000000, "IN_ONLYDIR"}, xent{0x02000000, "IN_DONT_FOLLOW"}, xent{0x04000000, "IN_EXCL_UNLINK"},
		xent{0x10000000, "IN_MASK_CREATE"}, xent{0x20000000, "IN_MASK_ADD"}, xent{0x40000000, "IN_ISDIR"},
		xent{0x80000000, "IN_ONESHOT"})
	xGrnd         = x("GRND_", xent{1, "GRND_NONBLOCK"}, xent{2, "GRND_RANDOM"}, xent{4, "GRND_INSECURE"})
	xMemfd        = x("MFD_", xent{1, "MFD_CLOEXEC"}, xent{2, "MFD_ALLOW_SEALING"}, xent{4, "MFD_HUGETLB"}, xent{8, "MFD_NOEXEC_SEAL"}, xent{0x10, "MFD_EXEC"})
	xRename       = x("RENAME_", xent{1, "RENAME_NOREPLACE"}, xent{2, "RENAME_EXCHANGE"}, xent{4, "RENAME_WHITEOUT"})
	xCloseRange   = x("CLOSE_RANGE_", xent{2, "CLOSE_RANGE_UNSHARE"}, xent{4, "CLOSE_RANGE_CLOEXEC"})
	xPidfdFlags   = x("PIDFD_", xent{0x800, "PIDFD_NONBLOCK"}, xent{0x80, "PIDFD_THREAD"})
	xResolve      = x("RESOLVE_", xent{1, "RESOLVE_NO_XDEV"}, xent{2, "RESOLVE_NO_MAGICLINKS"}, xent{4, "RESOLVE_NO_SYMLINKS"}, xent{8, "RESOLVE_BENEATH"}, xent{0x10, "RESOLVE_IN_ROOT"}, xent{0x20, "RESOLVE_CACHED"})
	xWaitOptions  = x("W", xent{1, "WNOHANG"}, xent{2, "WSTOPPED"}, xent{4, "WEXITED"}, xent{8, "WCONTINUED"}, xent{0x1000000, "WNOWAIT"}, xent{0x80000000, "__WCLONE"}, xent{0x40000000, "__WALL"}, xent{0x20000000, "__WNOTHREAD"})
	xWait4Options = x("W", xent{1, "WNOHANG"}, xent{2, "WUNTRACED"}, xent{4, "WEXITED"}, xent{8, "WCONTINUED"}, xent{0x1000000, "WNOWAIT"}, xent{0x80000000, "__WCLONE"}, xent{0x40000000, "__WALL"}, xent{0x20000000, "__WNOTHREAD"})
	xIdtype       = x("P_", xent{0, "P_ALL"}, xent{1, "P_PID"}, xent{2, "P_PGID"}, xent{3, "P_PIDFD"})
	xClock        = x("CLOCK_",
		xent{0, "CLOCK_REALTIME"}, xent{1, "CLOCK_MONOTONIC"}, xent{2, "CLOCK_PROCESS_CPUTIME_ID"},
		xent{3, "CLOCK_THREAD_CPUTIME_ID"}, xent{4, "CLOCK_MONOTONIC_RAW"}, xent{5, "CLOCK_REALTIME_COARSE"},
		xent{6, "CLOCK_MONOTONIC_COARSE"}, xent{7, "CLOCK_BOOTTIME"}, xent{8, "CLOCK_REALTIME_ALARM"},
		xent{9, "CLOCK_BOOTTIME_ALARM"}, xent{10, "CLOCK_SGI_CYCLE"}, xent{11, "CLOCK_TAI"})
	xTimerFlags = x("TIMER_", xent{1, "TIMER_ABSTIME"})
	xItimer     = x("ITIMER_", xent{0, "ITIMER_REAL"}, xent{1, "ITIMER_VIRTUAL"}, xent{2, "ITIMER_PROF"})
	xRlimit     = x("RLIMIT_",
		xent{0, "RLIMIT_CPU"}, xent{1, "RLIMIT_FSIZE"}, xent{2, "RLIMIT_DATA"}, xent{3, "RLIMIT_STACK"},
		xent{4, "RLIMIT_CORE"}, xent{5, "RLIMIT_RSS"}, xent{6, "RLIMIT_NPROC"}, xent{7, "RLIMIT_NOFILE"},
		xent{8, "RLIMIT_MEMLOCK"}, xent{9, "RLIMIT_AS"}, xent{10, "RLIMIT_LOCKS"}, xent{11, "RLIMIT_SIGPENDING"},
		xent{12, "RLIMIT_MSGQUEUE"}, xent{13, "RLIMIT_NICE"}, xent{14, "RLIMIT_RTPRIO"}, xent{15, "RLIMIT_RTTIME"})
	xRusageWho = x("RUSAGE_", xent{0, "RUSAGE_SELF"}, xent{0xffffffff, "RUSAGE_CHILDREN"}, xent{1, "RUSAGE_THREAD"})
	xPrioWhich = x("PRIO_", xent{0, "PRIO_PROCESS"}, xent{1, "PRIO_PGRP"}, xent{2, "PRIO_USER"})
	xSchedPol  = x("SCHED_", xent{0, "SCHED_OTHER"}, xent{1, "SCHED_FIFO"}, xent{2, "SCHED_RR"}, xent{3, "SCHED_BATCH"}, xent{5, "SCHED_IDLE"}, xent{6, "SCHED_DEADLINE"}, xent{7, "SCHED_EXT"})
	xArchPrctl = x("ARCH_",
		xent{0x1001, "ARCH_SET_GS"}, xent{0x1002, "ARCH_SET_FS"}, xent{0x1003, "ARCH_GET_FS"}, xent{0x1004, "ARCH_GET_GS"},
		xent{0x1011, "ARCH_GET_CPUID"}, xent{0x1012, "ARCH_SET_CPUID"}, xent{0x1021, "ARCH_GET_XCOMP_SUPP"},
		xent{0x1022, "ARCH_GET_XCOMP_PERM"}, xent{0x1023, "ARCH_REQ_XCOMP_PERM"},
		xent{0x1024, "ARCH_GET_XCOMP_GUEST_PERM"}, xent{0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
		xent{0x2001, "ARCH_MAP_VDSO_X32"}, xent{0x2002, "ARCH_MAP_VDSO_32"}, xent{0x2003, "ARCH_MAP_VDSO_64"},
		xent{0x4001, "ARCH_GET_UNTAG_MASK"}, xent{0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
		xent{0x4003, "ARCH_GET_MAX_TAG_BITS"}, xent{0x4004, "ARCH_FORCE_TAGGED_SVA"}, xent{0x5001, "ARCH_SHSTK_ENABLE"},
		xent{0x5002, "ARCH_SHSTK_DISABLE"}, xent{0x5003, "ARCH_SHSTK_LOCK"}, xent{0x5004, "ARCH_SHSTK_UNLOCK"},
		xent{0x5005, "ARCH_SHSTK_STATUS"})
	xPrctl = x("PR_",
		xent{1, "PR_SET_PDEATHSIG"}, xent{2, "PR_GET_PDEATHSIG"}, xent{3, "PR_GET_DUMPABLE"}, xent{4, "PR_SET_DUMPABLE"},
		xent{5, "PR_GET_UNALIGN"}, xent{6, "PR_SET_UNALIGN"}, xent{7, "PR_GET_KEEPCAPS"}, xent{8, "PR_SET_KEEPCAPS"},
		xent{9, "PR_GET_FPEMU"}, xent{10, "PR_SET_FPEMU"}, xent{11, "PR_GET_FPEXC"}, xent{12, "PR_SET_FPEXC"},
		xent{13, "PR_GET_TIMING"}, xent{14, "PR_SET_TIMING"}, xent{15, "PR_SET_NAME"}, xent{16, "PR_GET_NAME"},
		xent{19, "PR_GET_ENDIAN"}, xent{20, "PR_SET_ENDIAN"}, xent{21, "PR_GET_SECCOMP"}, xent{22, "PR_SET_SECCOMP"},
		xent{23, "PR_CAPBSET_READ"}, xent{24, "PR_CAPBSET_DROP"}, xent{25, "PR_GET_TSC"}, xent{26, "PR_SET_TSC"},
		xent{27, "PR_GET_SECUREBITS"}, xent{28, "PR_SET_SECUREBITS"}, xent{29, "PR_SET_TIMERSLACK"},
		xent{30, "PR_GET_TIMERSLACK"}, xent{31, "PR_TASK_PERF_EVENTS_DISABLE"}, xent{32, "PR_TASK_PERF_EVENTS_ENABLE"},
		xent{33, "PR_MCE_KILL"}, xent{34, "PR_MCE_KILL_GET"}, xent{35, "PR_SET_MM"}, xent{36, "PR_SET_CHILD_SUBREAPER"},
		xent{37, "PR_GET_CHILD_SUBREAPER"}, xent{38, "PR_SET_NO_NEW_PRIVS"}, xent{39, "PR_GET_NO_NEW_PRIVS"},
		xent{40, "PR_GET_TID_ADDRESS"}, xent{41, "PR_SET_THP_DISABLE"}, xent{42, "PR_GET_THP_DISABLE"},
		xent{43, "PR_MPX_ENABLE_MANAGEMENT"}, xent{44, "PR_MPX_DISABLE_MANAGEMENT"}, xent{45, "PR_SET_FP_MODE"},
		xent{46, "PR_GET_FP_MODE"}, xent{47, "PR_CAP_AMBIENT"}, xent{50, "PR_SVE_SET_VL"}, xent{51, "PR_SVE_GET_VL"},
		xent{52, "PR_GET_SPECULATION_CTRL"}, xent{53, "PR_SET_SPECULATION_CTRL"}, xent{54, "PR_PAC_RESET_KEYS"},
		xent{55, "PR_SET_TAGGED_ADDR_CTRL"}, xent{56, "PR_GET_TAGGED_ADDR_CTRL"}, xent{57, "PR_SET_IO_FLUSHER"},
		xent{58, "PR_GET_IO_FLUSHER"}, xent{59, "PR_SET_SYSCALL_USER_DISPATCH"}, xent{60, "PR_PAC_SET_ENABLED_KEYS"},
		xent{61, "PR_PAC_GET_ENABLED_KEYS"}, xent{62, "PR_SCHED_CORE"}, xent{63, "PR_SME_SET_VL"},
		xent{64, "PR_SME_GET_VL"}, xent{65, "PR_SET_MDWE"}, xent{66, "PR_GET_MDWE"}, xent{67, "PR_SET_MEMORY_MERGE"},
		xent{68, "PR_GET_MEMORY_MERGE"}, xent{69, "PR_RISCV_V_SET_CONTROL"}, xent{70, "PR_RISCV_V_GET_CONTROL"},
		xent{71, "PR_RISCV_SET_ICACHE_FLUSH_CTX"}, xent{72, "PR_PPC_GET_DEXCR"}, xent{73, "PR_PPC_SET_DEXCR"},
		xent{74, "PR_GET_SHADOW_STACK_STATUS"}, xent{75, "PR_SET_SHADOW_STACK_STATUS"},
		xent{76, "PR_LOCK_SHADOW_STACK_STATUS"}, xent{77, "PR_TIMER_CREATE_RESTORE_IDS"}, xent{78, "PR_FUTEX_HASH"},
		xent{0x41555856, "PR_GET_AUXV"}, xent{0x53564d41, "PR_SET_VMA"}, xent{0x59616d61, "PR_SET_PTRACER"})
	xPtrace = x("PTRACE_",
		xent{0, "PTRACE_TRACEME"}, xent{1, "PTRACE_PEEKTEXT"}, xent{2, "PTRACE_PEEKDATA"}, xent{3, "PTRACE_PEEKUSER"},
		xent{4, "PTRACE_POKETEXT"}, xent{5, "PTRACE_POKEDATA"}, xent{6, "PTRACE_POKEUSER"}, xent{7, "PTRACE_CONT"},
		xent{8, "PTRACE_KILL"}, xent{9, "PTRACE_SINGLESTEP"}, xent{12, "PTRACE_GETREGS"}, xent{13, "PTRACE_SETREGS"},
		xent{14, "PTRACE_GETFPREGS"}, xent{15, "PTRACE_SETFPREGS"}, xent{16, "PTRACE_ATTACH"},
		xent{17, "PTRACE_DETACH"}, xent{18, "PTRACE_GETFPXREGS"}, xent{19, "PTRACE_SETFPXREGS"},
		xent{21, "PTRACE_OLDSETOPTIONS"}, xent{24, "PTRACE_SYSCALL"}, xent{25, "PTRACE_GET_THREAD_AREA"},
		xent{26, "PTRACE_SET_THREAD_AREA"}, xent{30, "PTRACE_ARCH_PRCTL"}, xent{31, "PTRACE_SYSEMU"},
		xent{32, "PTRACE_SYSEMU_SINGLESTEP"}, xent{33, "PTRACE_SINGLEBLOCK"}, xent{0x4200, "PTRACE_SETOPTIONS"},
		xent{0x4201, "PTRACE_GETEVENTMSG"}, xent{0x4202, "PTRACE_GETSIGINFO"}, xent{0x4203, "PTRACE_SETSIGINFO"},
		xent{0x4204, "PTRACE_GETREGSET"}, xent{0x4205, "PTRACE_SETREGSET"}, xent{0x4206, "PTRACE_SEIZE"},
		xent{0x4207, "PTRACE_INTERRUPT"}, xent{0x4208, "PTRACE_LISTEN"}, xent{0x4209, "PTRACE_PEEKSIGINFO"},
		xent{0x420a, "PTRACE_GETSIGMASK"}, xent{0x420b, "PTRACE_SETSIGMASK"}, xent{0x420c, "PTRACE_SECCOMP_GET_FILTER"},
		xent{0x420d, "PTRACE_SECCOMP_GET_METADATA"}, xent{0x420e, "PTRACE_GET_SYSCALL_INFO"},
		xent{0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"}, xent{0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"},
		xent{0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"})
	xMembarrier = x("MEMBARRIER_CMD_",
		xent{0, "MEMBARRIER_CMD_QUERY"}, xent{1, "MEMBARRIER_CMD_GLOBAL"}, xent{2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"},
		xent{4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"}, xent{8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"},
		xent{16, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"}, xent{32, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"},
		xent{64, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"}, xent{128, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"},
		xent{256, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"}, xent{512, "MEMBARRIER_CMD_GET_REGISTRATIONS"})
	xFalloc = x("FALLOC_FL_",
		xent{1, "FALLOC_FL_KEEP_SIZE"}, xent{2, "FALLOC_FL_PUNCH_HOLE"}, xent{4, "FALLOC_FL_NO_HIDE_STALE"},
		xent{8, "FALLOC_FL_COLLAPSE_RANGE"}, xent{0x10, "FALLOC_FL_ZERO_RANGE"}, xent{0x20, "FALLOC_FL_INSERT_RANGE"},
		xent{0x40, "FALLOC_FL_UNSHARE_RANGE"}, xent{0x80, "FALLOC_FL_WRITE_ZEROES"})
	xSplice  = x("SPLICE_F_", xent{1, "SPLICE_F_MOVE"}, xent{2, "SPLICE_F_NONBLOCK"}, xent{4, "SPLICE_F_MORE"}, xent{8, "SPLICE_F_GIFT"})
	xUmount  = x("", xent{1, "MNT_FORCE"}, xent{2, "MNT_DETACH"}, xent{4, "MNT_EXPIRE"}, xent{8, "UMOUNT_NOFOLLOW"})
	xMountFl = x("MS_",
		xent{1, "MS_RDONLY"}, xent{2, "MS_NOSUID"}, xent{4, "MS_NODEV"}, xent{8, "MS_NOEXEC"}, xent{16, "MS_SYNCHRONOUS"},
		xent{32, "MS_REMOUNT"}, xent{64, "MS_MANDLOCK"}, xent{128, "MS_DIRSYNC"}, xent{256, "MS_NOSYMFOLLOW"},
		xent{1024, "MS_NOATIME"}, xent{2048, "MS_NODIRATIME"}, xent{4096, "MS_BIND"}, xent{8192, "MS_MOVE"},
		xent{16384, "MS_REC"}, xent{32768, "MS_SILENT"}, xent{1 << 16, "MS_POSIXACL"}, xent{1 << 17, "MS_UNBINDABLE"},
		xent{1 << 18, "MS_PRIVATE"}, xent{1 << 19, "MS_SLAVE"}, xent{1 << 20, "MS_SHARED"}, xent{1 << 21, "MS_RELATIME"},
		xent{1 << 22, "MS_KERNMOUNT"}, xent{1 << 23, "MS_I_VERSION"}, xent{1 << 24, "MS_STRICTATIME"},
		xent{1 << 25, "MS_LAZYTIME"}, xent{1 << 30, "MS_ACTIVE"}, xent{1 << 31, "MS_NOUSER"})
	xIoUringEnter = x("IORING_ENTER_",
		xent{1, "IORING_ENTER_GETEVENTS"}, xent{2, "IORING_ENTER_SQ_WAKEUP"}, xent{4, "IORING_ENTER_SQ_WAIT"},
		xent{8, "IORING_ENTER_EXT_ARG"}, xent{0x10, "IORING_ENTER_REGISTERED_RING"}, xent{0x20, "IORING_ENTER_ABS_TIMER"},
		xent{0x40, "IORING_ENTER_EXT_ARG_REG"}, xent{0x80, "IORING_ENTER_NO_IOWAIT"})
	xIoUringRegister = x("IORING_",
		xent{0, "IORING_REGISTER_BUFFERS"}, xent{1, "IORING_UNREGISTER_BUFFERS"}, xent{2, "IORING_REGISTER_FILES"},
		xent{3, "IORING_UNREGISTER_FILES"}, xent{4, "IORING_REGISTER_EVENTFD"}, xent{5, "IORING_UNREGISTER_EVENTFD"},
		xent{6, "IORING_REGISTER_FILES_UPDATE"}, xent{7, "IORING_REGISTER_EVENTFD_ASYNC"},
		xent{8, "IORING_REGISTER_PROBE"}, xent{9, "IORING_REGISTER_PERSONALITY"}, xent{10, "IORING_UNREGISTER_PERSONALITY"},
		xent{11, "IORING_REGISTER_RESTRICTIONS"}, xent{12, "IORING_REGISTER_ENABLE_RINGS"},
		xent{13, "IORING_REGISTER_FILES2"}, xent{14, "IORING_REGISTER_FILES_UPDATE2"},
		xent{15, "IORING_REGISTER_BUFFERS2"}, xent{16, "IORING_REGISTER_BUFFERS_UPDATE"},
		xent{17, "IORING_REGISTER_IOWQ_AFF"}, xent{18, "IORING_UNREGISTER_IOWQ_AFF"},
		xent{19, "IORING_REGISTER_IOWQ_MAX_WORKERS"}, xent{20, "IORING_REGISTER_RING_FDS"},
		xent{21, "IORING_UNREGISTER_RING_FDS"}, xent{22, "IORING_REGISTER_PBUF_RING"},
		xent{23, "IORING_UNREGISTER_PBUF_RING"}, xent{24, "IORING_REGISTER_SYNC_CANCEL"},
		xent{25, "IORING_REGISTER_FILE_ALLOC_RANGE"})
	xIpcCmd = x("IPC_", xent{0, "IPC_RMID"}, xent{1, "IPC_SET"}, xent{2, "IPC_STAT"}, xent{3, "IPC_INFO"},
		xent{11, "SHM_LOCK"}, xent{12, "SHM_UNLOCK"}, xent{13, "SHM_STAT"}, xent{14, "SHM_INFO"},
		xent{15, "SHM_STAT_ANY"})
	xIpcFlags = x("IPC_", xent{0o1000, "IPC_CREAT"}, xent{0o2000, "IPC_EXCL"}, xent{0o4000, "IPC_NOWAIT"})
	xShmFlags = x("SHM_", xent{0o1000, "IPC_CREAT"}, xent{0o2000, "IPC_EXCL"}, xent{0o4000, "SHM_HUGETLB"},
		xent{0o10000, "SHM_NORESERVE"})
	xShmat     = x("SHM_", xent{0o10000, "SHM_RDONLY"}, xent{0o20000, "SHM_RND"}, xent{0o40000, "SHM_REMAP"}, xent{0o100000, "SHM_EXEC"})
	xRseq      = x("RSEQ_FLAG_", xent{1, "RSEQ_FLAG_UNREGISTER"})
	xSeccompOp = x("SECCOMP_", xent{0, "SECCOMP_SET_MODE_STRICT"}, xent{1, "SECCOMP_SET_MODE_FILTER"},
		xent{2, "SECCOMP_GET_ACTION_AVAIL"}, xent{3, "SECCOMP_GET_NOTIF_SIZES"})
	xFsyncRange = x("SYNC_FILE_RANGE_", xent{1, "SYNC_FILE_RANGE_WAIT_BEFORE"}, xent{2, "SYNC_FILE_RANGE_WRITE"}, xent{4, "SYNC_FILE_RANGE_WAIT_AFTER"})
	xFadvise    = x("POSIX_FADV_", xent{0, "POSIX_FADV_NORMAL"}, xent{1, "POSIX_FADV_RANDOM"}, xent{2, "POSIX_FADV_SEQUENTIAL"}, xent{3, "POSIX_FADV_WILLNEED"}, xent{4, "POSIX_FADV_DONTNEED"}, xent{5, "POSIX_FADV_NOREUSE"})
	xXattr      = x("XATTR_", xent{1, "XATTR_CREATE"}, xent{2, "XATTR_REPLACE"})
	xTermios    = x("", // ioctl requests with a known name (tty and a few generic ones)
		xent{0x5401, "TCGETS"}, xent{0x5402, "TCSETS"}, xent{0x5403, "TCSETSW"}, xent{0x5404, "TCSETSF"},
		xent{0x5405, "TCGETA"}, xent{0x5406, "TCSETA"}, xent{0x5407, "TCSETAW"}, xent{0x5408, "TCSETAF"},
		xent{0x5409, "TCSBRK"}, xent{0x540a, "TCXONC"}, xent{0x540b, "TCFLSH"}, xent{0x540c, "TIOCEXCL"},
		xent{0x540d, "TIOCNXCL"}, xent{0x540e, "TIOCSCTTY"}, xent{0x540f, "TIOCGPGRP"}, xent{0x5410, "TIOCSPGRP"},
		xent{0x5411, "TIOCOUTQ"}, xent{0x5412, "TIOCSTI"}, xent{0x5413, "TIOCGWINSZ"}, xent{0x5414, "TIOCSWINSZ"},
		xent{0x5415, "TIOCMGET"}, xent{0x5416, "TIOCMBIS"}, xent{0x5417, "TIOCMBIC"}, xent{0x5418, "TIOCMSET"},
		xent{0x5419, "TIOCGSOFTCAR"}, xent{0x541a, "TIOCSSOFTCAR"}, xent{0x541b, "FIONREAD"},
		xent{0x541c, "TIOCLINUX"}, xent{0x541d, "TIOCCONS"}, xent{0x541e, "TIOCGSERIAL"}, xent{0x541f, "TIOCSSERIAL"},
		xent{0x5420, "TIOCPKT"}, xent{0x5421, "FIONBIO"}, xent{0x5422, "TIOCNOTTY"}, xent{0x5423, "TIOCSETD"},
		xent{0x5424, "TIOCGETD"}, xent{0x5425, "TCSBRKP"}, xent{0x5427, "TIOCSBRK"}, xent{0x5428, "TIOCCBRK"},
		xent{0x5429, "TIOCGSID"}, xent{0x802c542a, "TCGETS2"}, xent{0x402c542b, "TCSETS2"},
		xent{0x402c542c, "TCSETSW2"}, xent{0x402c542d, "TCSETSF2"}, xent{0x80045430, "TIOCGPTN"},
		xent{0x40045431, "TIOCSPTLCK"}, xent{0x80045432, "TIOCGDEV"}, xent{0x5441, "TIOCGPTPEER"},
		xent{0x5450, "FIONCLEX"}, xent{0x5451, "FIOCLEX"}, xent{0x5452, "FIOASYNC"}, xent{0x5460, "FIOQSIZE"},
		xent{0x80086601, "FS_IOC_GETFLAGS"}, xent{0x40086602, "FS_IOC_SETFLAGS"}, xent{0x40049409, "FICLONE"},
		xent{0x4020940d, "FICLONERANGE"}, xent{0x80081272, "BLKGETSIZE64"}, xent{0x1260, "BLKGETSIZE"},
		xent{0x1268, "BLKSSZGET"}, xent{0x8912, "SIOCGIFCONF"}, xent{0x8913, "SIOCGIFFLAGS"},
		xent{0x8914, "SIOCSIFFLAGS"}, xent{0x8915, "SIOCGIFADDR"}, xent{0x8921, "SIOCGIFMTU"},
		xent{0x8927, "SIOCGIFHWADDR"}, xent{0x8933, "SIOCGIFINDEX"}, xent{0x8910, "SIOCGIFNAME"},
		xent{0xc020660b, "FS_IOC_FIEMAP"})
)
