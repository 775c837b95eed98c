// Where the app finds its backend. `pgext dev` serves its own /config.js (this file is
// shadowed there); `pgext deploy` writes one from POSTGREST_URL / REALTIME_URL in .env.<name>.
export const config = {
  postgrestUrl: 'http://127.0.0.1:{{postgrest_port}}',
  realtimeUrl: 'ws://127.0.0.1:{{realtime_port}}',
};
export default config;
