"""A TCP relay that delays every byte by a fixed time in each direction: a wide-area link's
round-trip time for the connections through it, where the kernel has no tc netem (sch_netem).

    python delay_relay.py LISTEN_HOST:PORT TARGET_HOST:PORT ONE_WAY_MS

Each chunk read from one side is written to the other ONE_WAY_MS after it was read, in order,
so a request and its response see twice that added. Runs until killed.
"""

import asyncio
import socket
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(1 << 16)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
        writer.close()


def no_delay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def main(listen, target, one_way_ms):
    delay = one_way_ms / 1000.0
    target_host, target_port = target.rsplit(":", 1)

    async def connection(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host,
                                                                         int(target_port))
        except OSError:
            client_writer.close()
            return
        no_delay(client_writer)
        no_delay(server_writer)
        await asyncio.gather(pump(client_reader, server_writer, delay),
                             pump(server_reader, client_writer, delay))

    host, port = listen.rsplit(":", 1)
    server = await asyncio.start_server(connection, host, int(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
