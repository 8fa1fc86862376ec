"""A FastAPI route returning JSON: the payload flask_app.py returns."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def index():
    return {"message": "Hello, world!", "items": [1, 2, 3]}


application = app
