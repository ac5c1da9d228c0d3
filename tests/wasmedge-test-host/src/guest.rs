//! WASI errno values and bounds-checked access to the guest's linear memory.

/// A WASI errno, the result of every WasmEdge socket call (0 is success).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const BADF: Errno = Errno(8);
    pub const FAULT: Errno = Errno(21);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const MFILE: Errno = Errno(33);
    pub const NOMEM: Errno = Errno(48);
    pub const NOPROTOOPT: Errno = Errno(50);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    // WasmEdge's own extension of the errno enum for getaddrinfo (`EAI_*` errors).
    pub const AI_ADDRFAMILY: Errno = Errno(77);
    pub const AI_BADFLAG: Errno = Errno(79);
    pub const AI_FAMILY: Errno = Errno(81);
    pub const AI_MEMORY: Errno = Errno(82);
    pub const AI_NONAME: Errno = Errno(84);
    pub const AI_SERVICE: Errno = Errno(85);
}

/// The same translation wasi-common applies in `fd_read` and friends.
impl From<std::io::Error> for Errno {
    fn from(err: std::io::Error) -> Errno {
        match wasi_common::Error::from(err).downcast() {
            Ok(errno) => Errno(errno as i32),
            Err(_) => Errno::IO,
        }
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(err: rustix::io::Errno) -> Errno {
        Errno::from(std::io::Error::from(err))
    }
}

/// The guest's linear memory; every access outside it is `FAULT`. Callers add field
/// offsets with `saturating_add`, so that a pointer near the top of the address space is a
/// FAULT too rather than wrapping around.
pub struct Guest<'a>(pub &'a mut [u8]);

impl Guest<'_> {
    pub fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let start = ptr as usize;
        self.0.get(start..start + len as usize).ok_or(Errno::FAULT)
    }

    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let start = ptr as usize;
        self.0
            .get_mut(start..start + len as usize)
            .ok_or(Errno::FAULT)
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.bytes(ptr, 1)?[0])
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.bytes(ptr, 2)?.try_into().unwrap()))
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.bytes(ptr, 4)?.try_into().unwrap()))
    }

    pub fn write_u8(&mut self, ptr: u32, value: u8) -> Result<(), Errno> {
        self.bytes_mut(ptr, 1)?[0] = value;
        Ok(())
    }

    pub fn write_u16(&mut self, ptr: u32, value: u16) -> Result<(), Errno> {
        self.bytes_mut(ptr, 2)?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    pub fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), Errno> {
        self.bytes_mut(ptr, 4)?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    /// Reads a WasmEdge `__wasi_address_t` (`{u32 buf, u32 buf_len}`) and returns the
    /// buffer's location.
    pub fn address_buffer(&self, ptr: u32) -> Result<(u32, u32), Errno> {
        let buf = self.read_u32(ptr)?;
        let buf_len = self.read_u32(ptr.saturating_add(4))?;
        self.bytes(buf, buf_len)?;
        Ok((buf, buf_len))
    }
}
