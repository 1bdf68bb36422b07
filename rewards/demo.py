"""stub"""


async def fill():
    pass
