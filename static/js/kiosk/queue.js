// The kiosk's responses on the device: the same offline queue and sync as the enumerator app
// (static/js/enumerator/sync.js), in its own database, sent to the kiosk endpoint.
var Kiosk = OfflineQueue({ db: "kiosk", store: "responses", body: "responses", lock: "kiosk-sync",
  url: "/api/v1/kiosk/responses" });
