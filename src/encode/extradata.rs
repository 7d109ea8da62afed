//! Reads and replaces codec extradata, which ffmpeg-next has no safe accessor for. The only
//! `unsafe` in reelsmith; each block says why it is sound.
#![allow(unsafe_code)]

use ffmpeg_next as ff;

use crate::encode::EncodeError;

/// Copies an open codec context's extradata (x264's `avcC` when opened with global headers).
pub fn of_context(ctx: &ff::codec::Context) -> Vec<u8> {
    // SAFETY: `as_ptr` is the live AVCodecContext owned by `ctx`, which is borrowed (so neither
    // freed nor modified) for the whole block. libav keeps `extradata` either null or an
    // allocation of at least `extradata_size` bytes; both are checked before the slice is made,
    // and the bytes are copied out before the borrow ends.
    unsafe {
        let c = ctx.as_ptr();
        let (p, n) = ((*c).extradata, (*c).extradata_size);
        if p.is_null() || n <= 0 {
            return Vec::new();
        }
        std::slice::from_raw_parts(p, n as usize).to_vec()
    }
}

/// Replaces a stream's extradata (`codecpar->extradata`) with a copy of `data`.
///
/// # Errors
/// [`EncodeError::Alloc`] if libav cannot allocate the buffer.
pub fn set_on_stream(
    st: &mut ff::format::stream::StreamMut<'_>,
    data: &[u8],
) -> Result<(), EncodeError> {
    let size = i32::try_from(data.len()).map_err(|_| EncodeError::Alloc("extradata"))?;
    // SAFETY: `as_mut_ptr` is the live AVStream borrowed mutably for the whole block; its
    // `codecpar` is allocated by libav with the stream. The new buffer comes from
    // `av_mallocz` with the padding libav requires after extradata (zeroed), is fully
    // initialised by the copy, and replaces the old one, which is freed with `av_freep` (the
    // allocator libav uses for codecpar extradata). `extradata_size` is set to the bytes
    // copied, which fit in an i32 (checked above).
    unsafe {
        let par = (*st.as_mut_ptr()).codecpar;
        if par.is_null() {
            return Err(EncodeError::Alloc("codec parameters"));
        }
        let padding = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        let buf = ff::ffi::av_mallocz(data.len() + padding).cast::<u8>();
        if buf.is_null() {
            return Err(EncodeError::Alloc("extradata"));
        }
        std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len());
        ff::ffi::av_freep(std::ptr::addr_of_mut!((*par).extradata).cast());
        (*par).extradata = buf;
        (*par).extradata_size = size;
    }
    Ok(())
}
