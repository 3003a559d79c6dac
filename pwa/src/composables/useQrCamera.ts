import { onScopeDispose, ref, type Ref } from "vue";

/** The browser's BarcodeDetector (Chromium on Android, Safari 17+), where it has one. */
interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
type DetectorClass = new (options: { formats: string[] }) => Detector;

const EVERY_MS = 250;

function detectorClass(): DetectorClass | null {
  const found = (window as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  return typeof found === "function" ? found : null;
}

/**
 * Reading QR codes with the phone's camera: the rear camera into a <video>, a BarcodeDetector
 * looking at it four times a second. `supported` is false where the browser cannot read QR codes
 * (the page then offers the code as text). The camera is released on `stop` and with the page.
 */
export function useQrCamera(onCode: (text: string) => void): {
  supported: boolean;
  active: Ref<boolean>;
  start: (video: HTMLVideoElement) => Promise<void>;
  stop: () => void;
} {
  const Detector = detectorClass();
  const active = ref(false);
  let stream: MediaStream | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = null;
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    active.value = false;
  }

  async function start(video: HTMLVideoElement): Promise<void> {
    if (!Detector || active.value) return;
    const detector = new Detector({ formats: ["qr_code"] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    video.srcObject = stream;
    await video.play();
    active.value = true;
    let busy = false;
    timer = setInterval(async () => {
      if (busy || video.readyState < 2) return;
      busy = true;
      try {
        const [code] = await detector.detect(video);
        if (code?.rawValue) {
          stop();
          onCode(code.rawValue);
        }
      } catch {
        // a frame it could not read: the next one may do
      } finally {
        busy = false;
      }
    }, EVERY_MS);
  }

  onScopeDispose(stop);
  return { supported: Detector !== null, active, start, stop };
}
