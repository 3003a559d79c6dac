/** Photos from the phone's camera, made small enough to send: ≤ 1280 px on the long side, JPEG. */

export const MAX_SIDE = 1280;
/** The API takes at most this many bytes of image (MediaCreate.data). */
export const MAX_BYTES = 700_000;
/** JPEG qualities tried in turn until the photo fits. */
export const QUALITIES = [0.85, 0.75, 0.6, 0.45] as const;

export interface Size {
  width: number;
  height: number;
}

/** The size of a `width × height` picture scaled down (never up) so its long side is at most `max`. */
export function fitWithin(width: number, height: number, max: number = MAX_SIDE): Size {
  if (!(width > 0) || !(height > 0)) return { width: 0, height: 0 };
  const scale = Math.min(1, max / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** How many bytes a base64 string decodes to. */
export function base64Bytes(base64: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** The base64 part of a `data:` URL. */
export function dataUrlBase64(dataUrl: string): string {
  const comma = dataUrl.indexOf(",");
  return comma < 0 ? "" : dataUrl.slice(comma + 1);
}

export class PhotoTooLarge extends Error {
  constructor() {
    super("photo too large");
    this.name = "PhotoTooLarge";
  }
}

async function decode(file: Blob): Promise<{ source: CanvasImageSource; size: Size; close(): void }> {
  if (typeof createImageBitmap === "function") {
    // EXIF rotation applied, as the person saw the scene.
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    return { source: bitmap, size: { width: bitmap.width, height: bitmap.height }, close: () => bitmap.close() };
  }
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.src = url;
  await image.decode();
  return {
    source: image,
    size: { width: image.naturalWidth, height: image.naturalHeight },
    close: () => URL.revokeObjectURL(url),
  };
}

/** A picture drawn on a canvas at `size`, as base64 JPEG at the best quality that fits the API. */
function canvasJpeg(source: CanvasImageSource, size: Size): string {
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2d canvas");
  context.fillStyle = "#fff"; // a transparent PNG turns white, not black
  context.fillRect(0, 0, size.width, size.height);
  context.drawImage(source, 0, 0, size.width, size.height);
  for (const quality of QUALITIES) {
    const data = dataUrlBase64(canvas.toDataURL("image/jpeg", quality));
    if (base64Bytes(data) <= MAX_BYTES) return data;
  }
  throw new PhotoTooLarge();
}

/**
 * A photo as base64 JPEG no larger than `max` px on its long side (drawn on a canvas), at the best
 * quality that fits the API's limit.
 */
export async function photoToJpeg(file: Blob, max: number = MAX_SIDE): Promise<{ data: string } & Size> {
  const image = await decode(file);
  try {
    const size = fitWithin(image.size.width, image.size.height, max);
    return { data: canvasJpeg(image.source, size), ...size };
  } finally {
    image.close();
  }
}

/**
 * The frame a <video> shows now (a live camera view: a snapshot), as base64 JPEG no larger than
 * `max` px on its long side; null while it has no picture to grab.
 */
export function frameToJpeg(video: HTMLVideoElement, max: number = MAX_SIDE): ({ data: string } & Size) | null {
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return null;
  const size = fitWithin(video.videoWidth, video.videoHeight, max);
  if (!size.width) return null;
  return { data: canvasJpeg(video, size), ...size };
}
