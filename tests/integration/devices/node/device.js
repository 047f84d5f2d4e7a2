// The seed's quick start, as a test: connect, register, take one task, report progress and the result.
// Usage: node device.js <url> <device_id>. Prints one JSON line per step; exits 0 when the result is acked.
const { io } = require('socket.io-client');

const url = process.argv[2];
const deviceId = process.argv[3] || 'android_001';
const socket = io(url.replace(/^http/, 'ws'));
const log = (step, data) => console.log(JSON.stringify({ step, data }));
const timer = setTimeout(() => { log('timeout', null); process.exit(2); }, 20000);

socket.on('connected', (data) => log('connected', data));
socket.on('register_success', (data) => log('register_success', data));
socket.on('error', (data) => log('error', data));

socket.emit('device_register', {
  device_id: deviceId,
  device_name: '我的手机',
  device_info: { type: 'android', version: '13' },
});

socket.on('new_task', (data) => {
  log('new_task', data);
  socket.emit('task_progress', { task_id: data.task_id, progress: 60, message: '正在处理第2个商品...' });
  socket.emit('task_result', {
    task_id: data.task_id,
    result: { success: true, processed_count: data.data.product_ids.length, failed_count: 0, message: '下架完成' },
  });
});

socket.on('task_result_ack', (data) => {
  log('task_result_ack', data);
  clearTimeout(timer);
  socket.close();
  process.exit(0);
});
