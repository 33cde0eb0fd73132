/* "📍 Gửi vị trí": the phone's position, as the payload the report form takes. */
import { TEXT } from "./texts.js";

/** Resolves to the payload to send; rejects with a message fit to show. */
export function currentLocation() {
  if (!navigator.geolocation || typeof navigator.geolocation.getCurrentPosition !== "function") {
    return Promise.reject(new Error(TEXT.noLocation));
  }
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition((pos) => {
      resolve("/inform" + JSON.stringify({
        lat: pos.coords.latitude.toFixed(6),
        long: pos.coords.longitude.toFixed(6)
      }));
    }, (err) => {
      reject(new Error(err && err.code === 1 ? TEXT.locationDenied : TEXT.noLocation));
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
}
