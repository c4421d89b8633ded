// A test SMSC on the npm smpp package's server side, for numauth's smpp package tests.
//
// Usage: node smsc.js  (listens on 127.0.0.1, a free port). It prints one JSON event a line on stdout
// ({"event":"listening","port":N} first) and takes one JSON command a line on stdin:
//   {"cmd":"config","ids":"hex"|"dec","throttle":N,"fail":N,"status":S,"hold":true|false,"quiet":true|false}
//       ids: how submit_sm_resp writes message ids (hex "1A2B" or decimal "6699", from one counter);
//       throttle: answer the next N submit_sm with ESME_RTHROTTLED; fail: answer the next N with
//       command_status S; hold: do not answer submit_sm; quiet: print no submit events (benchmarks).
// Submit events carry "session": the number of the connection (1, 2, ...) in the order they were accepted.
//   {"cmd":"receipt","id":"1A2B","stat":"DELIVRD","err":"000","text":true,"tlv":true,"state":2}
//   {"cmd":"mo","from":"8613800138000","to":"NUMAUTH","text":"hello"}
//   {"cmd":"enquire_link"}  send an enquire_link to every session
//   {"cmd":"drop"}          destroy every connection without unbinding
'use strict';
const smpp = require('smpp');
const readline = require('readline');

let ids = 'hex';
let throttle = 0;
let hold = false;
let fail = 0;
let failStatus = 0;
let quiet = false;
let sessionCount = 0;
let next = 0x1A2B;
const sessions = new Set();

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const server = smpp.createServer((session) => {
  sessions.add(session);
  session.number = ++sessionCount;
  session.on('close', () => { sessions.delete(session); emit({ event: 'close' }); });
  session.on('error', () => {});
  for (const cmd of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(cmd, (pdu) => {
      const ok = pdu.password === 'secret';
      emit({ event: 'bind', command: cmd, system_id: pdu.system_id, ok });
      session.kind = cmd;
      session.send(pdu.response({ command_status: ok ? 0 : smpp.ESME_RINVPASWD, system_id: 'testsmsc' }));
    });
  }
  session.on('enquire_link', (pdu) => {
    emit({ event: 'enquire_link' });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    emit({ event: 'unbind' });
    session.send(pdu.response());
    session.close();
  });
  session.on('deliver_sm_resp', (pdu) => emit({ event: 'deliver_sm_resp', status: pdu.command_status }));
  session.on('enquire_link_resp', () => emit({ event: 'enquire_link_resp' }));
  session.on('submit_sm', (pdu) => {
    if (quiet && !hold && throttle === 0 && fail === 0) {
      session.send(pdu.response({ message_id: ids === 'hex' ? (next++).toString(16).toUpperCase() : String(next++) }));
      return;
    }
    const sm = pdu.short_message || {};
    const ev = {
      event: 'submit', session: session.number, dest: pdu.destination_addr, source: pdu.source_addr,
      data_coding: pdu.data_coding, esm_class: pdu.esm_class, registered_delivery: pdu.registered_delivery,
      udh: sm.udh ? sm.udh.map((b) => b.toString('hex')) : [],
      message: typeof sm.message === 'string' ? sm.message : '',
    };
    if (pdu.sar_msg_ref_num !== undefined) {
      ev.sar = { ref: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, seq: pdu.sar_segment_seqnum };
    }
    if (pdu.message_payload) {
      ev.payload = pdu.message_payload.message;
    }
    if (hold) {
      ev.held = true;
      emit(ev);
      return;
    }
    if (throttle > 0) {
      throttle--;
      ev.status = smpp.ESME_RTHROTTLED;
      emit(ev);
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    if (fail > 0) {
      fail--;
      ev.status = failStatus;
      emit(ev);
      session.send(pdu.response({ command_status: failStatus }));
      return;
    }
    const n = next++;
    ev.id = ids === 'hex' ? n.toString(16).toUpperCase() : String(n);
    ev.status = 0;
    emit(ev);
    session.send(pdu.response({ message_id: ev.id }));
  });
});

function receiver() {
  for (const s of sessions) {
    if (s.kind === 'bind_transceiver' || s.kind === 'bind_receiver') {
      return s;
    }
  }
  return null;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('close', () => process.exit(0)); // the test that started us is gone
rl.on('line', (line) => {
  const c = JSON.parse(line);
  switch (c.cmd) {
    case 'config':
      if (c.ids !== undefined) ids = c.ids;
      if (c.throttle !== undefined) throttle = c.throttle;
      if (c.hold !== undefined) hold = c.hold;
      if (c.fail !== undefined) fail = c.fail;
      if (c.status !== undefined) failStatus = c.status;
      if (c.quiet !== undefined) quiet = c.quiet;
      break;
    case 'receipt': {
      const p = { source_addr: '8613800138000', destination_addr: 'NUMAUTH', esm_class: 0x04 };
      if (c.text) {
        p.short_message = 'id:' + c.id + ' sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:' +
          c.stat + ' err:' + (c.err || '000') + ' text:';
      }
      if (c.tlv) {
        p.receipted_message_id = c.id;
        p.message_state = c.state;
      }
      receiver().deliver_sm(p);
      break;
    }
    case 'mo':
      receiver().deliver_sm({ source_addr: c.from, destination_addr: c.to, short_message: c.text });
      break;
    case 'enquire_link':
      for (const s of sessions) s.enquire_link();
      break;
    case 'drop':
      for (const s of sessions) s.destroy();
      break;
  }
  emit({ event: 'ok', cmd: c.cmd });
});

server.listen(0, '127.0.0.1', () => emit({ event: 'listening', port: server.address().port }));
