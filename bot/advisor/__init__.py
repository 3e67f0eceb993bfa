"""The core: retrieve -> read the asker's situation -> decide routes -> compose a cited answer."""
from bot.advisor.advisor import Advisor, QuestionError
from bot.advisor.types import Answer, Question, Turn

__all__ = ["Advisor", "Answer", "Question", "QuestionError", "Turn"]
