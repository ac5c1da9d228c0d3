//! A TCP socket as an entry of wasi-common's fd table, so that the standard calls
//! (`fd_read`, `fd_write`, `fd_close`, `fd_fdstat_get`, `fd_fdstat_set_flags`,
//! `poll_oneoff`, `sock_recv`, `sock_send`, `sock_shutdown`) work on it as on WasmEdge.

use std::any::Any;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use rustix::net::{RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendAncillaryBuffer, SendFlags};
use wasi_common::file::{FdFlags, FileType, RiFlags, RoFlags, SdFlags, SiFlags};
use wasi_common::{Error, ErrorExt, WasiFile};

/// The socket is shared with the `SocketTable`, which holds only a weak reference:
/// `fd_close` drops this entry and so closes the socket.
pub struct SocketFile(pub Arc<OwnedFd>);

#[async_trait::async_trait]
impl WasiFile for SocketFile {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn pollable(&self) -> Option<BorrowedFd<'_>> {
        Some(self.0.as_fd())
    }

    async fn get_filetype(&self) -> Result<FileType, Error> {
        Ok(FileType::SocketStream)
    }

    async fn get_fdflags(&self) -> Result<FdFlags, Error> {
        let flags = rustix::fs::fcntl_getfl(&*self.0).map_err(std::io::Error::from)?;
        Ok(if flags.contains(rustix::fs::OFlags::NONBLOCK) {
            FdFlags::NONBLOCK
        } else {
            FdFlags::empty()
        })
    }

    /// Only NONBLOCK means anything for a socket; like Linux `fcntl(F_SETFL)` (which is
    /// what WasmEdge calls), the other flags are accepted and ignored.
    async fn set_fdflags(&mut self, flags: FdFlags) -> Result<(), Error> {
        rustix::io::ioctl_fionbio(&*self.0, flags.contains(FdFlags::NONBLOCK))
            .map_err(std::io::Error::from)?;
        Ok(())
    }

    async fn read_vectored<'a>(&self, bufs: &mut [IoSliceMut<'a>]) -> Result<u64, Error> {
        let n = rustix::io::readv(&*self.0, bufs).map_err(std::io::Error::from)?;
        Ok(n as u64)
    }

    async fn write_vectored<'a>(&self, bufs: &[IoSlice<'a>]) -> Result<u64, Error> {
        let n = rustix::io::writev(&*self.0, bufs).map_err(std::io::Error::from)?;
        Ok(n as u64)
    }

    async fn peek(&self, buf: &mut [u8]) -> Result<u64, Error> {
        let (n, _) =
            rustix::net::recv(&*self.0, buf, RecvFlags::PEEK).map_err(std::io::Error::from)?;
        Ok(n as u64)
    }

    /// `recvmsg` with MSG_PEEK / MSG_WAITALL, as WasmEdge does.
    async fn sock_recv<'a>(
        &self,
        bufs: &mut [IoSliceMut<'a>],
        ri_flags: RiFlags,
    ) -> Result<(u64, RoFlags), Error> {
        let mut flags = RecvFlags::empty();
        if ri_flags.contains(RiFlags::RECV_PEEK) {
            flags |= RecvFlags::PEEK;
        }
        if ri_flags.contains(RiFlags::RECV_WAITALL) {
            flags |= RecvFlags::WAITALL;
        }
        let message =
            rustix::net::recvmsg(&*self.0, bufs, &mut RecvAncillaryBuffer::default(), flags)
                .map_err(std::io::Error::from)?;
        let ro_flags = if message.flags.contains(ReturnFlags::TRUNC) {
            RoFlags::RECV_DATA_TRUNCATED
        } else {
            RoFlags::empty()
        };
        Ok((message.bytes as u64, ro_flags))
    }

    /// `sendmsg` with MSG_NOSIGNAL, as WasmEdge does: a closed peer gives EPIPE, no signal.
    async fn sock_send<'a>(&self, bufs: &[IoSlice<'a>], _: SiFlags) -> Result<u64, Error> {
        let n = rustix::net::sendmsg(
            &*self.0,
            bufs,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        )
        .map_err(std::io::Error::from)?;
        Ok(n as u64)
    }

    async fn sock_shutdown(&self, how: SdFlags) -> Result<(), Error> {
        let how = if how == SdFlags::RD | SdFlags::WR {
            rustix::net::Shutdown::Both
        } else if how == SdFlags::RD {
            rustix::net::Shutdown::Read
        } else if how == SdFlags::WR {
            rustix::net::Shutdown::Write
        } else {
            return Err(Error::invalid_argument());
        };
        rustix::net::shutdown(&*self.0, how).map_err(std::io::Error::from)?;
        Ok(())
    }
}
