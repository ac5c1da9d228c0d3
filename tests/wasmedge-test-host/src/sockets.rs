//! WasmEdge's socket extensions of `wasi_snapshot_preview1`, as WasmEdge 0.14 implements
//! them on Linux (lib/host/wasi/wasifunc.cpp and inode-linux.cpp): every parameter and
//! result is an i32, the result is a WASI errno, addresses are raw bytes in network order
//! with a separate host-order port, and new sockets get random file descriptors.
//!
//! Sockets live in wasi-common's fd table as `SocketFile`s, so the standard calls work on
//! them; this module's `SocketTable` keeps a weak reference to each one for the calls that
//! wasi-common does not have (bind, listen, connect, socket options, addresses).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Weak};

use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
use wasi_common::file::FileAccessMode;
use wasi_common::{I32Exit, WasiCtx};
use wasmtime::{Caller, Extern, ExternType, FuncType, Linker, Module, Val, ValType, bail};

use crate::addrinfo;
use crate::guest::{Errno, Guest};
use crate::host::HostState;
use crate::socket_file::SocketFile;

pub const P1: &str = "wasi_snapshot_preview1";

/// Set to `1` to number new sockets like files (3, 4, 5...), for debugging only.
pub const SEQUENTIAL_FDS_VAR: &str = "WASMEDGE_TEST_HOST_SEQUENTIAL_FDS";

/// Every call WasmEdge 0.13-0.16 adds to `wasi_snapshot_preview1` (plus the standard
/// socket calls), with the parameter counts it accepts; all parameters are i32 and the
/// one result is an i32 (runtimes/wasmedge-0.13-0.16.toml).
const WASMEDGE_CALLS: &[(&str, &[usize])] = &[
    ("sock_open", &[3]),
    ("sock_bind", &[3]),
    ("sock_connect", &[3]),
    ("sock_listen", &[2]),
    ("sock_accept", &[2, 3]),
    ("sock_recv", &[6]),
    ("sock_send", &[5]),
    ("sock_shutdown", &[2]),
    ("sock_recv_from", &[7, 8]),
    ("sock_send_to", &[7]),
    ("sock_getsockopt", &[5]),
    ("sock_setsockopt", &[5]),
    ("sock_getlocaladdr", &[4, 3]),
    ("sock_getpeeraddr", &[4, 3]),
    ("sock_getaddrinfo", &[8]),
    ("epoll_oneoff", &[4]),
    ("sock_open_v2", &[3]),
    ("sock_bind_v2", &[3]),
    ("sock_connect_v2", &[3]),
    ("sock_listen_v2", &[2]),
    ("sock_accept_v2", &[3]),
    ("sock_recv_v2", &[6]),
    ("sock_recv_from_v2", &[8]),
    ("sock_send_v2", &[5]),
    ("sock_send_to_v2", &[7]),
    ("sock_getlocaladdr_v2", &[3]),
    ("sock_getpeeraddr_v2", &[3]),
];

/// The forms implemented here. A module importing any other form of `WASMEDGE_CALLS`
/// still loads, but that call returns NOSYS (the real WasmEdge implements it).
const IMPLEMENTED: &[(&str, usize)] = &[
    ("sock_open", 3),
    ("sock_bind", 3),
    ("sock_connect", 3),
    ("sock_listen", 2),
    ("sock_accept", 2),
    ("sock_accept", 3),
    ("sock_recv", 6),
    ("sock_send", 5),
    ("sock_shutdown", 2),
    ("sock_getsockopt", 5),
    ("sock_setsockopt", 5),
    ("sock_getlocaladdr", 4),
    ("sock_getpeeraddr", 4),
    ("sock_getaddrinfo", 8),
    ("epoll_oneoff", 4),
];

const FDFLAGS_NONBLOCK: u32 = 4;
const FDFLAGS_ALL: u32 = 0x1f;

/// The sockets among the guest's fds.
pub struct SocketTable {
    sockets: HashMap<u32, Weak<OwnedFd>>,
    sequential: bool,
}

impl SocketTable {
    pub fn from_env() -> SocketTable {
        SocketTable {
            sockets: HashMap::new(),
            sequential: std::env::var(SEQUENTIAL_FDS_VAR).is_ok_and(|value| value == "1"),
        }
    }

    /// Puts a new socket in the fd table. Like WasmEdge, its fd is drawn uniformly at
    /// random (here from [3, 2^31-1)), skipping fds in use.
    fn insert(&mut self, wasi: &WasiCtx, socket: OwnedFd) -> Result<u32, Errno> {
        let socket = Arc::new(socket);
        let file = Box::new(SocketFile(socket.clone()));
        let access = FileAccessMode::READ | FileAccessMode::WRITE;
        let fd = if self.sequential {
            wasi.push_file(file, access).map_err(|_| Errno::MFILE)?
        } else {
            let fd = loop {
                let fd = rand::random_range(3..i32::MAX as u32);
                if !wasi.table().contains_key(fd) {
                    break fd;
                }
            };
            wasi.insert_file(fd, file, access);
            fd
        };
        self.sockets.retain(|_, socket| socket.strong_count() > 0);
        self.sockets.insert(fd, Arc::downgrade(&socket));
        Ok(fd)
    }

    /// The socket at `fd`: BADF if the fd is not open, NOTSOCK if it is not a socket.
    fn get(&self, wasi: &WasiCtx, fd: u32) -> Result<Arc<OwnedFd>, Errno> {
        if !wasi.table().contains_key(fd) {
            return Err(Errno::BADF);
        }
        self.sockets
            .get(&fd)
            .and_then(Weak::upgrade)
            .ok_or(Errno::NOTSOCK)
    }

    fn renumber(&mut self, from: u32, to: u32) {
        self.sockets.remove(&to);
        if let Some(socket) = self.sockets.remove(&from) {
            self.sockets.insert(to, socket);
        }
    }
}

/// Defines WasmEdge's calls on top of wasi-common's (the linker must allow shadowing).
/// `module` decides which form of the calls WasmEdge defines in several forms; a module
/// that imports one with a type WasmEdge does not accept is refused here with a clear
/// error (the real WasmEdge 0.13-0.16 loads it and corrupts memory at the first call).
pub fn add_to_linker(linker: &mut Linker<HostState>, module: &Module) -> wasmtime::Result<()> {
    define_calls(linker)?;
    for import in module.imports().filter(|import| import.module() == P1) {
        let name = import.name();
        let Some((_, forms)) = WASMEDGE_CALLS.iter().find(|(call, _)| *call == name) else {
            continue;
        };
        let ExternType::Func(ty) = import.ty() else {
            bail!("import `{P1}::{name}` is not a function");
        };
        let Some(arity) = errno_call_arity(&ty).filter(|arity| forms.contains(arity)) else {
            let accepted: Vec<String> = forms.iter().map(|arity| signature(*arity)).collect();
            bail!(
                "import `{P1}::{name}` has type {}, but WasmEdge 0.13-0.16 accepts only {} \
                 (the real WasmEdge would load this module and corrupt memory at the first call)",
                describe(&ty),
                accepted.join(" or ")
            );
        };
        if (name, arity) == ("sock_accept", 2) {
            linker.func_wrap(
                P1,
                name,
                |mut caller: Caller<'_, HostState>, fd: u32, out: u32| {
                    with_guest(&mut caller, |guest, state| {
                        sock_accept(guest, state, fd, 0, out)
                    })
                },
            )?;
        } else if !IMPLEMENTED.contains(&(name, arity)) {
            linker.func_new(P1, name, ty.clone(), |_, _, results| {
                results[0] = Val::I32(Errno::NOSYS.0);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// The calls defined for every module.
fn define_calls(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    type C<'a> = Caller<'a, HostState>;
    linker.func_wrap(
        P1,
        "sock_open",
        |mut c: C, af: u32, socktype: u32, out: u32| {
            with_guest(&mut c, |g, s| sock_open(g, s, af, socktype, out))
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_bind",
        |mut c: C, fd: u32, addr: u32, port: u32| {
            with_guest(&mut c, |g, s| {
                let addr = read_socket_addr(g, addr, port)?;
                Ok(rustix::net::bind(&*socket(s, fd)?, &addr)?)
            })
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_connect",
        |mut c: C, fd: u32, addr: u32, port: u32| {
            with_guest(&mut c, |g, s| {
                let addr = read_socket_addr(g, addr, port)?;
                Ok(rustix::net::connect(&*socket(s, fd)?, &addr)?)
            })
        },
    )?;
    linker.func_wrap(P1, "sock_listen", |mut c: C, fd: u32, backlog: i32| {
        with_guest(&mut c, |_, s| {
            Ok(rustix::net::listen(&*socket(s, fd)?, backlog)?)
        })
    })?;
    // The standard 3-parameter form; `add_to_linker` swaps in the 2-parameter one.
    linker.func_wrap(
        P1,
        "sock_accept",
        |mut c: C, fd: u32, fdflags: u32, out: u32| {
            with_guest(&mut c, |g, s| sock_accept(g, s, fd, fdflags, out))
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_getlocaladdr",
        |mut c: C, fd: u32, addr: u32, kind: u32, port: u32| {
            with_guest(&mut c, |g, s| {
                sock_address(g, s, fd, addr, kind, port, |socket| {
                    rustix::net::getsockname(socket)
                })
            })
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_getpeeraddr",
        |mut c: C, fd: u32, addr: u32, kind: u32, port: u32| {
            with_guest(&mut c, |g, s| {
                sock_address(g, s, fd, addr, kind, port, |socket| {
                    rustix::net::getpeername(socket)?.ok_or(rustix::io::Errno::NOTCONN)
                })
            })
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_getsockopt",
        |mut c: C, fd: u32, level: u32, name: u32, val: u32, len: u32| {
            with_guest(&mut c, |g, s| {
                sock_getsockopt(g, s, fd, level, name, val, len)
            })
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_setsockopt",
        |mut c: C, fd: u32, level: u32, name: u32, val: u32, len: u32| {
            with_guest(&mut c, |g, s| {
                sock_setsockopt(g, s, fd, level, name, val, len)
            })
        },
    )?;
    linker.func_wrap(
        P1,
        "sock_getaddrinfo",
        |mut c: C,
         node: u32,
         node_len: u32,
         service: u32,
         service_len: u32,
         hints: u32,
         res: u32,
         max_res: u32,
         res_len: u32| {
            with_guest(&mut c, |g, _| {
                addrinfo::sock_getaddrinfo(
                    g,
                    (node, node_len),
                    (service, service_len),
                    hints,
                    res,
                    max_res,
                    res_len,
                )
            })
        },
    )?;
    // WasmEdge's `epoll_oneoff` is an edge-triggered `poll_oneoff`; this one is
    // level-triggered, which a program written for edge triggering also copes with.
    linker.alias(P1, "poll_oneoff", P1, "epoll_oneoff")?;
    // wasi-common refuses exit codes of 126 and above; WasmEdge passes any code through.
    linker.func_wrap(P1, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        Err(I32Exit(code).into())
    })?;
    // wasi-common's own `fd_renumber`, plus moving the socket's entry in `SocketTable`.
    linker.func_wrap(P1, "fd_renumber", |mut c: C, from: u32, to: u32| {
        let HostState { wasi, sockets } = c.data_mut();
        let table = wasi.table();
        if !table.contains_key(from) || !table.contains_key(to) || table.renumber(from, to).is_err()
        {
            return Errno::BADF.0;
        }
        sockets.renumber(from, to);
        0
    })?;
    Ok(())
}

/// Runs a call with the guest's memory and the host state; its errno is the call's result.
fn with_guest(
    caller: &mut Caller<'_, HostState>,
    call: impl FnOnce(&mut Guest, &mut HostState) -> Result<(), Errno>,
) -> i32 {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Errno::FAULT.0;
    };
    let (memory, state) = memory.data_and_store_mut(caller);
    match call(&mut Guest(memory), state) {
        Ok(()) => 0,
        Err(errno) => errno.0,
    }
}

fn socket(state: &HostState, fd: u32) -> Result<Arc<OwnedFd>, Errno> {
    state.sockets.get(&state.wasi, fd)
}

/// `sock_open(af, socktype, *fd)`: af 1 INET4, 2 INET6; socktype 2 STREAM.
fn sock_open(
    guest: &mut Guest,
    state: &mut HostState,
    af: u32,
    socktype: u32,
    out_fd: u32,
) -> Result<(), Errno> {
    guest.bytes_mut(out_fd, 4)?;
    let family = match af {
        1 => AddressFamily::INET,
        2 => AddressFamily::INET6,
        // AF_UNIX: WasmEdge needs a command-line switch for it, and says NOSYS without.
        3 => return Err(Errno::NOSYS),
        _ => return Err(Errno::INVAL),
    };
    // UDP sockets open, bind and close (programs probe for IPv6 by opening one: PHP's
    // getaddrinfo path does); sock_send_to / sock_recv_from are not implemented here.
    let kind = match socktype {
        2 => SocketType::STREAM,
        1 => SocketType::DGRAM,
        _ => return Err(Errno::INVAL),
    };
    let socket = rustix::net::socket_with(family, kind, SocketFlags::CLOEXEC, None)?;
    if family == AddressFamily::INET6 {
        // As WasmEdge on Linux: an IPv6 socket does not also take IPv4 connections.
        sockopt::set_ipv6_v6only(&socket, true)?;
    }
    let fd = state.sockets.insert(&state.wasi, socket)?;
    guest.write_u32(out_fd, fd)
}

/// `sock_accept(fd, *fd)` (WasmEdge's form, `fdflags` 0) or `sock_accept(fd, fdflags, *fd)`.
/// The new socket is blocking unless `fdflags` has NONBLOCK.
fn sock_accept(
    guest: &mut Guest,
    state: &mut HostState,
    fd: u32,
    fdflags: u32,
    out_fd: u32,
) -> Result<(), Errno> {
    guest.bytes_mut(out_fd, 4)?;
    if fdflags & !FDFLAGS_ALL != 0 {
        return Err(Errno::INVAL);
    }
    let connection = rustix::net::accept_with(&*socket(state, fd)?, SocketFlags::CLOEXEC)?;
    if fdflags & FDFLAGS_NONBLOCK != 0 {
        rustix::io::ioctl_fionbio(&connection, true)?;
    }
    let new_fd = state.sockets.insert(&state.wasi, connection)?;
    guest.write_u32(out_fd, new_fd)
}

/// Reads the `{u32 buf, u32 buf_len}` at `addr` (4 bytes IPv4, 16 bytes IPv6, network
/// order) and a host-order port.
fn read_socket_addr(guest: &Guest, addr: u32, port: u32) -> Result<SocketAddr, Errno> {
    let (buf, buf_len) = guest.address_buffer(addr)?;
    let bytes = guest.bytes(buf, buf_len)?;
    let ip = match <[u8; 4]>::try_from(bytes) {
        Ok(octets) => IpAddr::V4(Ipv4Addr::from(octets)),
        Err(_) => match <[u8; 16]>::try_from(bytes) {
            Ok(octets) => IpAddr::V6(Ipv6Addr::from(octets)),
            Err(_) => return Err(Errno::INVAL),
        },
    };
    Ok(SocketAddr::new(ip, port as u16))
}

/// `sock_getlocaladdr` / `sock_getpeeraddr(fd, *addr, *addr_type, *port)`: writes the raw
/// address into the buffer of the `{buf, buf_len}` at `addr`, 4 or 6 into `*addr_type`
/// and the host-order port (u32) into `*port`. As in WasmEdge, `buf_len` must be 4 or 16
/// (else INVAL) and an IPv6 address in a 4-byte buffer is NOMEM.
fn sock_address(
    guest: &mut Guest,
    state: &HostState,
    fd: u32,
    addr: u32,
    addr_type: u32,
    port: u32,
    query: impl FnOnce(&OwnedFd) -> rustix::io::Result<rustix::net::SocketAddrAny>,
) -> Result<(), Errno> {
    let (buf, buf_len) = guest.address_buffer(addr)?;
    if buf_len != 4 && buf_len != 16 {
        return Err(Errno::INVAL);
    }
    guest.bytes_mut(addr_type, 4)?;
    guest.bytes_mut(port, 4)?;
    let address = SocketAddr::try_from(query(&*socket(state, fd)?)?)?;
    let (octets, kind) = match address.ip() {
        IpAddr::V4(ip) => (ip.octets().to_vec(), 4),
        IpAddr::V6(ip) => (ip.octets().to_vec(), 6),
    };
    if octets.len() > buf_len as usize {
        return Err(Errno::NOMEM);
    }
    guest
        .bytes_mut(buf, octets.len() as u32)?
        .copy_from_slice(&octets);
    guest.write_u32(addr_type, kind)?;
    guest.write_u32(port, u32::from(address.port()))
}

/// Socket option names of WasmEdge's `__wasi_sock_opt_so_t` (level 0, SOL_SOCKET).
mod so {
    pub const REUSEADDR: u32 = 0;
    pub const TYPE: u32 = 1;
    pub const ERROR: u32 = 2;
    pub const BROADCAST: u32 = 4;
    pub const SNDBUF: u32 = 5;
    pub const RCVBUF: u32 = 6;
    pub const KEEPALIVE: u32 = 7;
    pub const OOBINLINE: u32 = 8;
    pub const ACCEPTCONN: u32 = 13;
    /// DONTROUTE, LINGER, RCVLOWAT, RCVTIMEO, SNDTIMEO: NOTSUP here.
    pub const LAST: u32 = 13;
}

/// Checks level 0 (SOL_SOCKET, the only level WasmEdge knows) and a known option name.
fn check_option(level: u32, name: u32) -> Result<(), Errno> {
    if level != 0 || name > so::LAST {
        return Err(Errno::INVAL);
    }
    Ok(())
}

/// `sock_getsockopt(fd, level, name, *value, *len)` for i32 options (`*len` >= 4; it
/// becomes 4). As in WasmEdge, SO_TYPE comes back as WASI's socket type (2 STREAM) and
/// SO_ERROR as a WASI errno; buffer sizes are Linux's raw (doubled) values.
fn sock_getsockopt(
    guest: &mut Guest,
    state: &HostState,
    fd: u32,
    level: u32,
    name: u32,
    value: u32,
    len: u32,
) -> Result<(), Errno> {
    check_option(level, name)?;
    if guest.read_u32(len)? < 4 {
        return Err(Errno::INVAL);
    }
    guest.bytes_mut(value, 4)?;
    let socket = socket(state, fd)?;
    let socket = &*socket;
    let result = match name {
        so::REUSEADDR => i32::from(sockopt::socket_reuseaddr(socket)?),
        so::TYPE => match sockopt::socket_type(socket)? {
            SocketType::DGRAM => 1,
            SocketType::STREAM => 2,
            _ => 0,
        },
        so::ERROR => match sockopt::socket_error(socket)? {
            Ok(()) => 0,
            Err(err) => Errno::from(err).0,
        },
        so::BROADCAST => i32::from(sockopt::socket_broadcast(socket)?),
        so::SNDBUF => sockopt::socket_send_buffer_size(socket)? as i32,
        so::RCVBUF => sockopt::socket_recv_buffer_size(socket)? as i32,
        so::KEEPALIVE => i32::from(sockopt::socket_keepalive(socket)?),
        so::OOBINLINE => i32::from(sockopt::socket_oobinline(socket)?),
        so::ACCEPTCONN => i32::from(sockopt::socket_acceptconn(socket)?),
        _ => return Err(Errno::NOTSUP),
    };
    guest.write_u32(value, result as u32)?;
    guest.write_u32(len, 4)
}

/// `sock_setsockopt(fd, level, name, *value, len)` for i32 options (`len` must be 4).
fn sock_setsockopt(
    guest: &mut Guest,
    state: &HostState,
    fd: u32,
    level: u32,
    name: u32,
    value: u32,
    len: u32,
) -> Result<(), Errno> {
    check_option(level, name)?;
    if len != 4 {
        return Err(Errno::INVAL);
    }
    let value = guest.read_u32(value)? as i32;
    let socket = socket(state, fd)?;
    let socket = &*socket;
    let size = || usize::try_from(value).map_err(|_| Errno::INVAL);
    match name {
        so::REUSEADDR => sockopt::set_socket_reuseaddr(socket, value != 0)?,
        so::BROADCAST => sockopt::set_socket_broadcast(socket, value != 0)?,
        so::SNDBUF => sockopt::set_socket_send_buffer_size(socket, size()?)?,
        so::RCVBUF => sockopt::set_socket_recv_buffer_size(socket, size()?)?,
        so::KEEPALIVE => sockopt::set_socket_keepalive(socket, value != 0)?,
        so::OOBINLINE => sockopt::set_socket_oobinline(socket, value != 0)?,
        // Read-only options: Linux answers ENOPROTOOPT, and so does WasmEdge.
        so::TYPE | so::ERROR | so::ACCEPTCONN => return Err(Errno::NOPROTOOPT),
        _ => return Err(Errno::NOTSUP),
    }
    Ok(())
}

/// The parameter count of a `(i32, ...) -> i32` function type, the shape of every
/// WasmEdge socket call.
fn errno_call_arity(ty: &FuncType) -> Option<usize> {
    let results: Vec<ValType> = ty.results().collect();
    let all_i32 = ty.params().all(|param| matches!(param, ValType::I32));
    (all_i32 && results.len() == 1 && matches!(results[0], ValType::I32)).then(|| ty.params().len())
}

fn signature(arity: usize) -> String {
    format!("({}) -> i32", vec!["i32"; arity].join(", "))
}

fn describe(ty: &FuncType) -> String {
    let list = |types: Vec<String>| types.join(", ");
    let params = list(ty.params().map(|param| param.to_string()).collect());
    let results: Vec<String> = ty.results().map(|result| result.to_string()).collect();
    match results.as_slice() {
        [result] => format!("({params}) -> {result}"),
        _ => format!("({params}) -> ({})", list(results)),
    }
}
