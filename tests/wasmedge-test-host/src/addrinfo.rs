//! `sock_getaddrinfo(*node, node_len, *service, service_len, *hints, *res, max_res,
//! *res_len)`: WasmEdge's getaddrinfo, which fills result records the guest preallocated.
//!
//! Layouts (wasm32, little-endian):
//! - `__wasi_addrinfo_t`, 28 bytes: u16 flags @0, u8 family @2, u8 socktype @3,
//!   u8 protocol @4, u32 addrlen @8, ptr addr @12, ptr canonname @16,
//!   u32 canonname_len @20, ptr next @24.
//! - `__wasi_sockaddr_t`, 12 bytes: u8 family @0, u32 data_len @4, ptr data @8; `data`
//!   gets the native sockaddr after its family field (port in network order first).
//!
//! `*res` points at the first of `max_res` records linked through `next`; the host fills
//! the first `*res_len` of them. Errors are WasmEdge's `EAI_*` errno extension: an unknown
//! name is 84 (AI_NONAME), like WasmEdge's translation of glibc's EAI_NONAME.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use crate::guest::{Errno, Guest};

const PASSIVE: u16 = 1;
const CANONNAME: u16 = 2;
const NUMERICHOST: u16 = 4;
const NUMERICSERV: u16 = 8;
/// PASSIVE, CANONNAME, NUMERICHOST, NUMERICSERV, V4MAPPED, ALL, ADDRCONFIG.
const ALL_FLAGS: u16 = 0x7f;

const FAMILY_INET4: u8 = 1;
const FAMILY_INET6: u8 = 2;
const SOCKTYPE_DGRAM: u8 = 1;
const SOCKTYPE_STREAM: u8 = 2;
const PROTOCOL_TCP: u8 = 1;
const PROTOCOL_UDP: u8 = 2;

struct Hints {
    flags: u16,
    family: u8,
    socktype: u8,
    protocol: u8,
}

/// One preallocated result: where the record, its sockaddr, the sockaddr's data buffer
/// and the canonical-name buffer are.
struct Record {
    addrinfo: u32,
    sockaddr: u32,
    data: u32,
    data_len: u32,
    canonname: u32,
    canonname_len: u32,
}

pub fn sock_getaddrinfo(
    guest: &mut Guest,
    (node, node_len): (u32, u32),
    (service, service_len): (u32, u32),
    hints: u32,
    res: u32,
    max_res: u32,
    res_len: u32,
) -> Result<(), Errno> {
    // The checks in WasmEdge's order: pointers, then arguments, then the records.
    let node = guest.bytes(node, node_len)?.to_vec();
    let service = guest.bytes(service, service_len)?.to_vec();
    let hints = Hints {
        flags: guest.read_u16(hints)?,
        family: guest.read_u8(hints.saturating_add(2))?,
        socktype: guest.read_u8(hints.saturating_add(3))?,
        protocol: guest.read_u8(hints.saturating_add(4))?,
    };
    let first_record = guest.read_u32(res)?;
    guest.bytes_mut(res_len, 4)?;
    if node.is_empty() && service.is_empty() {
        return Err(Errno::AI_NONAME);
    }
    if max_res < 1 {
        return Err(Errno::AI_MEMORY);
    }
    if hints.flags & !ALL_FLAGS != 0 || (hints.flags & CANONNAME != 0 && node.is_empty()) {
        return Err(Errno::AI_BADFLAG);
    }
    if hints.family > FAMILY_INET6 {
        return Err(Errno::AI_FAMILY);
    }
    if hints.protocol > PROTOCOL_UDP || hints.socktype > SOCKTYPE_STREAM {
        return Err(Errno::NOSYS);
    }
    let records = read_records(guest, first_record, max_res)?;

    let node = String::from_utf8(node).map_err(|_| Errno::AI_NONAME)?;
    let port = parse_service(&service, hints.flags)?;
    let ips = resolve(&node, &hints)?;
    // Stream results only, unless the hints ask for datagrams.
    let (socktype, protocol) = if hints.socktype == SOCKTYPE_DGRAM || hints.protocol == PROTOCOL_UDP
    {
        (SOCKTYPE_DGRAM, PROTOCOL_UDP)
    } else {
        (SOCKTYPE_STREAM, PROTOCOL_TCP)
    };
    let count = ips.len().min(records.len());
    for (index, (ip, record)) in ips.into_iter().zip(&records).enumerate() {
        guest.write_u16(record.addrinfo, hints.flags)?;
        guest.write_u8(record.addrinfo.saturating_add(3), socktype)?;
        guest.write_u8(record.addrinfo.saturating_add(4), protocol)?;
        write_address(guest, record, SocketAddr::new(ip, port))?;
        // Like glibc, only the first result carries the canonical name (here the name
        // as given: there is no resolver query for it).
        let canonname = (index == 0 && hints.flags & CANONNAME != 0).then_some(node.as_bytes());
        write_canonname(guest, record, canonname)?;
    }
    guest.write_u32(res_len, count as u32)
}

/// Follows `next` from the first record, checking every buffer as WasmEdge does (FAULT).
fn read_records(guest: &Guest, first: u32, max_res: u32) -> Result<Vec<Record>, Errno> {
    let mut records = Vec::new();
    let mut addrinfo = first;
    for _ in 0..max_res {
        guest.bytes(addrinfo, 28)?;
        let sockaddr = guest.read_u32(addrinfo.saturating_add(12))?;
        let canonname = guest.read_u32(addrinfo.saturating_add(16))?;
        let canonname_len = guest.read_u32(addrinfo.saturating_add(20))?;
        guest.bytes(sockaddr, 12)?;
        let data_len = guest.read_u32(sockaddr.saturating_add(4))?;
        let data = guest.read_u32(sockaddr.saturating_add(8))?;
        guest.bytes(data, data_len)?;
        guest.bytes(canonname, canonname_len)?;
        records.push(Record {
            addrinfo,
            sockaddr,
            data,
            data_len,
            canonname,
            canonname_len,
        });
        addrinfo = guest.read_u32(addrinfo.saturating_add(24))?;
    }
    Ok(records)
}

/// A port number; service names are not looked up here (AI_SERVICE), and with
/// NUMERICSERV a name is AI_NONAME, as glibc answers.
fn parse_service(service: &[u8], flags: u16) -> Result<u16, Errno> {
    if service.is_empty() {
        return Ok(0);
    }
    match std::str::from_utf8(service)
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(port) => Ok(port),
        None if flags & NUMERICSERV != 0 => Err(Errno::AI_NONAME),
        None => Err(Errno::AI_SERVICE),
    }
}

/// The addresses for `node`, in glibc's order: numeric addresses as they are, an absent
/// node as the wildcard (PASSIVE: 0.0.0.0 then ::) or loopback (::1 then 127.0.0.1), and
/// names through the OS resolver (`localhost` works offline through /etc/hosts).
fn resolve(node: &str, hints: &Hints) -> Result<Vec<IpAddr>, Errno> {
    let wanted = |ip: &IpAddr| match hints.family {
        FAMILY_INET4 => ip.is_ipv4(),
        FAMILY_INET6 => ip.is_ipv6(),
        _ => true,
    };
    let candidates: Vec<IpAddr> = if node.is_empty() {
        if hints.flags & PASSIVE != 0 {
            vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()]
        } else {
            vec![Ipv6Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()]
        }
    } else if let Ok(ip) = node.parse::<IpAddr>() {
        if !wanted(&ip) {
            return Err(Errno::AI_ADDRFAMILY); // glibc: EAI_ADDRFAMILY
        }
        vec![ip]
    } else if hints.flags & NUMERICHOST != 0 {
        return Err(Errno::AI_NONAME);
    } else {
        // Any resolver failure is reported as AI_NONAME.
        let addresses = (node, 0).to_socket_addrs().map_err(|_| Errno::AI_NONAME)?;
        addresses.map(|address| address.ip()).collect()
    };
    let mut ips: Vec<IpAddr> = Vec::new();
    for ip in candidates.into_iter().filter(wanted) {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    if ips.is_empty() {
        return Err(Errno::AI_NONAME);
    }
    Ok(ips)
}

/// Family and addrlen in the record; family, data and data_len in its sockaddr. The data
/// is `sockaddr_in` / `sockaddr_in6` after the family field: 14 / 26 bytes.
fn write_address(guest: &mut Guest, record: &Record, address: SocketAddr) -> Result<(), Errno> {
    let mut data = address.port().to_be_bytes().to_vec();
    let (family, addrlen) = match address.ip() {
        IpAddr::V4(ip) => {
            data.extend_from_slice(&ip.octets());
            data.extend_from_slice(&[0; 8]); // sin_zero
            (FAMILY_INET4, 16)
        }
        IpAddr::V6(ip) => {
            data.extend_from_slice(&[0; 4]); // sin6_flowinfo
            data.extend_from_slice(&ip.octets());
            data.extend_from_slice(&[0; 4]); // sin6_scope_id
            (FAMILY_INET6, 28)
        }
    };
    if data.len() > record.data_len as usize {
        return Err(Errno::FAULT);
    }
    guest.write_u8(record.addrinfo.saturating_add(2), family)?;
    guest.write_u32(record.addrinfo.saturating_add(8), addrlen)?;
    guest.write_u8(record.sockaddr, family)?;
    guest.write_u32(record.sockaddr.saturating_add(4), data.len() as u32)?;
    guest
        .bytes_mut(record.data, data.len() as u32)?
        .copy_from_slice(&data);
    Ok(())
}

/// The name and a NUL, cut to the guest's buffer; `canonname_len` becomes its length
/// (0 for no name).
fn write_canonname(guest: &mut Guest, record: &Record, name: Option<&[u8]>) -> Result<(), Errno> {
    let name = name.unwrap_or_default();
    let length = name
        .len()
        .min(record.canonname_len.saturating_sub(1) as usize);
    if record.canonname_len > 0 {
        let buffer = guest.bytes_mut(record.canonname, length as u32 + 1)?;
        buffer[..length].copy_from_slice(&name[..length]);
        buffer[length] = 0;
    }
    guest.write_u32(record.addrinfo.saturating_add(20), length as u32)
}
