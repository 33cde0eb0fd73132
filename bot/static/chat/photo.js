/* "📷 Gửi ảnh": big photos are scaled down before upload (slow mobile networks). */
const MAX_PHOTO_SIDE = 1600;                // photos larger than this are scaled down
const MAX_PHOTO_BYTES = 1500000;            // ... when the file is bigger than this

/** The photo to upload, smaller when it can be; falls back to the original. Resolves to {blob, name}. */
export function shrinkPhoto(file) {
  const original = { blob: file, name: file.name || "anh.jpg" };
  if (file.size <= MAX_PHOTO_BYTES || typeof createImageBitmap !== "function" ||
      !/^image\/(jpeg|png|webp)$/.test(file.type)) {
    return Promise.resolve(original);
  }
  return createImageBitmap(file, { imageOrientation: "from-image" }).then((bmp) => {
    const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bmp.width, bmp.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bmp.width * scale);
    canvas.height = Math.round(bmp.height * scale);
    canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
    if (bmp.close) bmp.close();
    return new Promise((resolve) => {
      canvas.toBlob((blob) => {
        resolve(blob && blob.size < file.size
          ? { blob: blob, name: (file.name || "anh").replace(/\.[^.]*$/, "") + ".jpg" } : original);
      }, "image/jpeg", 0.85);
    });
  }).catch(() => original);
}
